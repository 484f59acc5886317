import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst up to the limit, then refills over the period', () => {
    const r = new RateLimiter();
    const limit = { events: 2, perSeconds: 10 };
    expect(r.take('i', limit, 1, 0)).toEqual({ ok: true });
    expect(r.take('i', limit, 1, 0)).toEqual({ ok: true });
    expect(r.take('i', limit, 1, 0)).toEqual({ ok: false, retryAfterSeconds: 5 });
    expect(r.take('other', limit, 1, 0)).toEqual({ ok: true });
    expect(r.take('i', limit, 1, 5000)).toEqual({ ok: true });
  });
});
