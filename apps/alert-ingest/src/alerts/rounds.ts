/**
 * Splits a batch of events into rounds so each round touches each alert key at most once (one
 * multi-row statement cannot update the same row twice), while keeping the order of events for
 * one key: the n-th event for a key goes to round n.
 */
export function planRounds<T>(events: readonly T[], keyOf: (e: T) => string): T[][] {
  const seen = new Map<string, number>();
  const rounds: T[][] = [];
  for (const e of events) {
    const k = keyOf(e);
    const r = seen.get(k) ?? 0;
    seen.set(k, r + 1);
    (rounds[r] ??= []).push(e);
  }
  return rounds;
}
