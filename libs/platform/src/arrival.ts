/**
 * Polls `check` (every 25 ms, doubling to 250 ms) until it returns a value or `ms` have passed,
 * then undefined. For a service's copy of another's data (users, services) that the directory
 * event brings a moment after the request that names it.
 */
export async function untilArrived<T>(check: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() + wait > deadline) return undefined;
    await new Promise((r) => setTimeout(r, wait));
  }
}
