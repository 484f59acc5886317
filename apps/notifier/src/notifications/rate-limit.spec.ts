import { describeRateLimits, nextAllowedAt, parseRateLimits } from './rate-limit.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
const min = (m: number, s = 0) => new Date(Date.UTC(2026, 0, 1, 12, m, s));

describe('rate limits', () => {
  it('reads "<count>/<window>" pairs and "off"', () => {
    expect(parseRateLimits('1/1m, 5/15m')).toEqual([
      { count: 1, windowMs: 60_000 },
      { count: 5, windowMs: 900_000 },
    ]);
    expect(parseRateLimits('3/h')).toEqual([{ count: 3, windowMs: 3_600_000 }]);
    expect(parseRateLimits('off')).toEqual([]);
    expect(describeRateLimits(parseRateLimits('1/1m,5/15m'))).toBe('1 per 1m, 5 per 15m');
  });

  it('refuses what it cannot read, saying how to write it', () => {
    expect(() => parseRateLimits('once a minute')).toThrow('"once a minute" is not a rate limit: write <count>/<window> such as 1/1m');
    expect(() => parseRateLimits('0/1m')).toThrow('the count must be at least 1');
  });

  it('lets the first message go at once', () => {
    expect(nextAllowedAt([], parseRateLimits('1/1m'), at(0))).toBeNull();
  });

  it('holds the next message until the window has passed since the last one', () => {
    expect(nextAllowedAt([at(0)], parseRateLimits('1/1m'), at(10))).toEqual(min(1, 0));
    expect(nextAllowedAt([at(0)], parseRateLimits('1/1m'), min(1, 0))).toBeNull();
  });

  it('applies the strictest of several limits: the sixth in a quarter hour waits for the first to age out', () => {
    const sent = [min(0), min(1), min(2), min(3), min(4)];
    expect(nextAllowedAt(sent, parseRateLimits('1/1m,5/15m'), min(5))).toEqual(min(15));
    expect(nextAllowedAt(sent.slice(1), parseRateLimits('1/1m,5/15m'), min(5))).toBeNull();
  });

  it('with no limits, never holds anything', () => {
    expect(nextAllowedAt([at(0), at(0), at(0)], [], at(0))).toBeNull();
  });
});
