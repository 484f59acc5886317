/*
 * One small interface per channel, one class per provider (as notification platforms like Novu
 * do). A provider's SDK never leaks past its class.
 */

export interface EmailMessage {
  /** Klaxon's notification id: the idempotency key, and the Message-ID's local part. */
  notificationId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * What became of a send whose outcome was never recorded (the process died mid-call):
 * sent, certainly not sent (safe to send again), or unknown (do not resend; move on).
 */
export type ReconcileResult = { outcome: 'sent'; providerMessageId: string } | { outcome: 'not-sent' } | { outcome: 'unknown' };

export interface EmailProvider {
  readonly name: string;
  send(message: EmailMessage): Promise<{ providerMessageId: string }>;
  reconcile(notificationId: string): Promise<ReconcileResult>;
}

export const EMAIL_PROVIDER = Symbol('EMAIL_PROVIDER');
