/** An integration sent more than its configured rate: 429 with Retry-After. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`This integration is over its rate limit; retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

export interface RateLimit {
  events: number;
  perSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-integration token buckets (capacity `events`, refilled over `perSeconds`). Kept per
 * instance: a limit protects this process, and is off unless an integration sets one.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes n tokens, or says how long until they would be there. */
  take(id: string, limit: RateLimit, n: number, nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const rate = limit.events / (limit.perSeconds * 1000);
    const b = this.buckets.get(id) ?? { tokens: limit.events, at: nowMs };
    b.tokens = Math.min(limit.events, b.tokens + (nowMs - b.at) * rate);
    b.at = nowMs;
    this.buckets.set(id, b);
    if (b.tokens >= n) {
      b.tokens -= n;
      return { ok: true };
    }
    const need = Math.min(n, limit.events) - b.tokens;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(need / rate / 1000)) };
  }
}
