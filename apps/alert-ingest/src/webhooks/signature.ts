import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signed timestamp may be from our clock before the request counts as a replay. */
export const MAX_SIGNATURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Checks Grafana's webhook HMAC: hex HMAC-SHA256 of the body, or of "timestamp:body" when a
 * timestamp header is configured. Returns what is wrong, or undefined when the signature holds.
 */
export function grafanaSignatureProblem(input: {
  secret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp?: string | undefined;
  timestampRequired: boolean;
  nowMs: number;
}): string | undefined {
  if (!input.signature) return "The request is not signed: this integration requires Grafana's HMAC signature";
  let signed: Buffer = input.rawBody;
  if (input.timestampRequired) {
    if (!input.timestamp || !/^\d{1,16}$/.test(input.timestamp)) return 'The signature timestamp header is missing or not a number';
    const n = Number(input.timestamp);
    const ms = n < 1e12 ? n * 1000 : n;
    if (Math.abs(input.nowMs - ms) > MAX_SIGNATURE_SKEW_MS)
      return 'The signature timestamp is more than 5 minutes away from now (a replay, or a clock out of sync)';
    signed = Buffer.concat([Buffer.from(`${input.timestamp}:`), input.rawBody]);
  }
  const expected = createHmac('sha256', input.secret).update(signed).digest();
  const given = Buffer.from(input.signature.trim().replace(/^sha256=/i, ''), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "The HMAC signature does not match this integration's secret";
  return undefined;
}
