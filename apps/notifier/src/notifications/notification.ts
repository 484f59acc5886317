import type { Channel, MessageOf } from '../providers/provider.js';
import type { Page } from './content.js';

export type NotificationStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'undelivered' | 'cancelled' | 'unknown';
export type NotificationKind = 'page' | 'verification' | 'stakeholder' | 'status';

/** What a status update says (kept in `page` until it is sent, bundled with others to the same place). */
export interface StatusUpdate {
  incidentId: string;
  incidentNumber: number;
  line: string;
}

/** A row of `notifications`: one message Klaxon owes someone, and what became of it. */
export interface NotificationRow {
  id: string;
  page_id: string;
  kind: NotificationKind;
  incident_id: string | null;
  user_id: string | null;
  channel: Channel;
  destination: string;
  status: NotificationStatus;
  /** For pages, the page request; otherwise what the message is about. */
  page: Page;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
  error: string | null;
  due_at: Date;
  started_at: Date | null;
  rule_key: string;
  contact_method_id: string | null;
  /** The notification whose provider call carries this one (itself when sent alone). */
  bundle_id: string | null;
  /** The provider message as sent (kept for reconciling and for pre-rendered messages). */
  message: MessageOf[Channel] | null;
  answered_by: string | null;
}

export const SEND = 'notification.send';
export const RECONCILE = 'notification.reconcile';

/** Page timers share a prefix per incident, so acknowledging it cancels them all at once. */
export function sendKey(n: Pick<NotificationRow, 'id' | 'kind' | 'incident_id'>): string {
  return n.kind === 'page' ? `notify:${n.incident_id}:${n.id}` : `notify-${n.kind}:${n.id}`;
}

export function incidentTimerPrefix(incidentId: string): string {
  return `notify:${incidentId}:`;
}

export function reconcileKey(id: string): string {
  return `notify-reconcile:${id}`;
}

/** Statuses that say where a message stands; a callback never moves one backwards. */
export const STATUS_RANK: Record<NotificationStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  unknown: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  cancelled: 3,
};
