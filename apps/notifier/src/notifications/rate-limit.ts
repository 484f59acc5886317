/**
 * Rate limits per contact method, as "<count>/<window>" pairs: "1/1m,5/15m" allows one message a
 * minute and five a quarter hour. Plain functions over the times of recent messages.
 */
export interface RateLimit {
  count: number;
  windowMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseRateLimits(spec: string): RateLimit[] {
  const s = spec.trim().toLowerCase();
  if (s === 'off' || s === 'none' || s === '') return [];
  return s.split(',').map((part) => {
    const m = /^(\d+)\s*\/\s*(\d*)\s*([smhd])$/.exec(part.trim());
    if (!m) throw new Error(`"${part.trim()}" is not a rate limit: write <count>/<window> such as 1/1m or 5/15m (units s, m, h, d), comma separated, or "off"`);
    const count = Number(m[1]);
    const windowMs = Number(m[2] || 1) * UNITS[m[3]!]!;
    if (count < 1 || windowMs < 1000) throw new Error(`"${part.trim()}": the count must be at least 1 and the window at least 1s`);
    return { count, windowMs };
  });
}

export function describeRateLimits(limits: RateLimit[]): string {
  if (limits.length === 0) return 'off';
  return limits.map((l) => `${l.count} per ${formatWindow(l.windowMs)}`).join(', ');
}

function formatWindow(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

/** The longest window among the limits: how far back the recent messages must be read. */
export function longestWindowMs(limits: RateLimit[]): number {
  return Math.max(0, ...limits.map((l) => l.windowMs));
}

/**
 * When the next message may go, given when recent ones went: null if it may go now. For each
 * limit, if `count` messages already went within the window, the next may go once the oldest of
 * those leaves it.
 */
export function nextAllowedAt(recent: Date[], limits: RateLimit[], now: Date): Date | null {
  const times = recent.map((d) => d.getTime()).sort((a, b) => b - a);
  let allowed = now.getTime();
  for (const limit of limits) {
    const inWindow = times.filter((t) => t > now.getTime() - limit.windowMs && t <= now.getTime());
    if (inWindow.length >= limit.count) allowed = Math.max(allowed, inWindow[limit.count - 1]! + limit.windowMs);
  }
  return allowed > now.getTime() ? new Date(allowed) : null;
}
