import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { classifyNetworkError, ProviderError } from './provider.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  /** https://api.twilio.com, a regional edge, a proxy or a local test server. */
  apiUrl: string;
}

/**
 * Twilio's SDK always builds https://<product>.twilio.com URLs; to reach another base URL (a proxy,
 * a local test server) its documented hook is a custom HTTP client: this one rewrites the origin
 * and hands the request to the SDK's own RequestClient.
 */
function baseUrlClient(base: URL): RequestClient {
  const inner = new twilio.RequestClient({ keepAlive: true, timeout: 15000 });
  const prefix = `${base.origin}${base.pathname.replace(/\/$/, '')}`;
  const client = Object.create(inner) as RequestClient;
  client.request = (opts) => {
    const uri = new URL(opts.uri);
    return inner.request({ ...opts, uri: `${prefix}${uri.pathname}${uri.search}` });
  };
  return client;
}

export function createTwilioClient(s: TwilioSettings): twilio.Twilio {
  const base = new URL(s.apiUrl);
  const custom = base.hostname !== 'api.twilio.com' || base.protocol !== 'https:';
  return twilio(s.accountSid, s.authToken, custom ? { httpClient: baseUrlClient(base) } : { keepAlive: true, timeout: 15000 });
}

/** Twilio error codes that mean this number will never take the message. */
const BAD_NUMBER_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21421, 21610, 21612, 21614]);

/**
 * A failed Twilio call by what a retry would mean: 429 is "not now" (nothing created), 5xx and
 * timeouts may have created the message, other 4xx are final for this message.
 */
export function classifyTwilioError(err: unknown): ProviderError {
  const e = err as { status?: number; code?: number; message?: string };
  if (typeof e.status === 'number' && e.status > 0) {
    const text = `Twilio ${e.status}${e.code ? ` (error ${e.code})` : ''}: ${e.message ?? ''}`.trim();
    if (e.status === 429) return new ProviderError(text, 'not-sent');
    if (e.status >= 500) return new ProviderError(text, 'unknown');
    return new ProviderError(text, 'permanent', {
      invalidDestination: e.code !== undefined && BAD_NUMBER_CODES.has(e.code),
      optedOut: e.code === TWILIO_UNSUBSCRIBED,
    });
  }
  return classifyNetworkError(err);
}

/** Twilio's code for "the recipient replied STOP": the number is opted out. */
export const TWILIO_UNSUBSCRIBED = 21610;

/** Messages and calls created within this margin before a send began still count as that send (clock skew). */
export const RECONCILE_SKEW_MS = 5000;
