/*
 * One small interface per channel, one class per provider (as notification platforms like Novu
 * do), and a factory that picks each channel's provider from configuration (providers.ts). A
 * provider's SDK never leaks past its class: it takes Klaxon's message and answers with the
 * provider's message id, or throws a ProviderError that says what a retry would mean.
 */
import type { Channel } from './channel.js';

export type { Channel } from './channel.js';

export interface EmailMessage {
  /** Klaxon's notification id: the idempotency key, and the Message-ID's local part. */
  notificationId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The message's action links (also in text and html), for the capture inbox to show as buttons. */
  actions?: { label: string; url: string }[];
}

export interface SmsMessage {
  notificationId: string;
  /** E.164. */
  to: string;
  body: string;
  /** Where the provider reports delivery (queued, sent, delivered, undelivered, failed). */
  statusCallbackUrl: string;
}

export interface VoiceMessage {
  notificationId: string;
  to: string;
  /** What the call says: the incident(s) and which key does what. */
  script: string;
  /** Where the key the responder presses is sent (it acts and answers with what to say next). */
  gatherUrl: string;
  statusCallbackUrl: string;
  machineDetection: boolean;
}

export interface PushMessage {
  notificationId: string;
  /** The device's registration token. */
  token: string;
  title: string;
  body: string;
  /** Flat string map (FCM data payload): incident, action URLs and tokens. */
  data: Record<string, string>;
  urgency: 'high' | 'low';
  /** iOS critical alert (needs Apple's entitlement) rather than time-sensitive. */
  critical: boolean;
  /** The action links (also in data), for the capture inbox to show as buttons. */
  actions?: { label: string; url: string }[];
}

export interface MessageOf {
  email: EmailMessage;
  sms: SmsMessage;
  voice: VoiceMessage;
  push: PushMessage;
}

/** What Klaxon knows about a send whose outcome was never recorded. */
export interface ReconcileQuery<M> {
  notificationId: string;
  message: M;
  /** When the send began: the provider is asked for messages since then. */
  startedAt: Date;
  /** Provider ids other messages to the same destination recorded since then: never this message. */
  otherProviderIds: string[];
}

/**
 * What became of a send whose outcome was never recorded (the process died mid-call):
 * sent, certainly not sent (safe to send again), or unknown (do not resend; move on).
 */
export type ReconcileResult = { outcome: 'sent'; providerMessageId: string } | { outcome: 'not-sent' } | { outcome: 'unknown' };

export interface ChannelProvider<C extends Channel> {
  readonly name: string;
  readonly channel: C;
  send(message: MessageOf[C]): Promise<{ providerMessageId: string }>;
  reconcile(query: ReconcileQuery<MessageOf[C]>): Promise<ReconcileResult>;
}

export type EmailProvider = ChannelProvider<'email'>;
export type SmsProvider = ChannelProvider<'sms'>;
export type VoiceProvider = ChannelProvider<'voice'>;
export type PushProvider = ChannelProvider<'push'>;

/**
 * A failed provider call, by what a retry would mean:
 * - `permanent`: the provider refused this message (bad number, unregistered device): fail over;
 * - `not-sent`: nothing went out (connection refused, rate limited, circuit open): retry later;
 * - `unknown`: it may have gone out (timeout, 5xx): ask the provider before any retry.
 * `invalidDestination` marks a device token or address the provider says is gone for good.
 */
export class ProviderError extends Error {
  /** The provider says this destination is gone for good (unregistered device, invalid number). */
  readonly invalidDestination: boolean;
  /** The recipient opted out with the provider (Twilio 21610: replied STOP). */
  readonly optedOut: boolean;
  /** Not even tried: the provider's circuit is open. Does not count as an attempt. */
  readonly circuitOpen: boolean;

  constructor(
    message: string,
    readonly kind: 'permanent' | 'not-sent' | 'unknown',
    flags: { invalidDestination?: boolean; optedOut?: boolean; circuitOpen?: boolean } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
    this.invalidDestination = flags.invalidDestination ?? false;
    this.optedOut = flags.optedOut ?? false;
    this.circuitOpen = flags.circuitOpen ?? false;
  }
}

/** Network errors that mean the request never reached the provider. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNECTION', 'EDNS']);

/** For errors a provider did not classify itself: network failures before or during the call. */
export function classifyNetworkError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = (err as { code?: unknown })?.code;
  const message = (err as Error)?.message ?? String(err);
  if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return new ProviderError(message, 'not-sent');
  return new ProviderError(message, 'unknown');
}

export interface Providers {
  email: EmailProvider;
  sms: SmsProvider;
  voice: VoiceProvider;
  push: PushProvider;
}
