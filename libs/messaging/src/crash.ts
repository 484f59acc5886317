/**
 * Test-only fault injection. A service started with CRASH_AT=<point> (or <point>:<n> for the n-th
 * time the point is reached) kills itself with SIGKILL right there, the way a power cut or an OOM
 * kill would: no shutdown hooks, no flush. The crash tests use this to prove no page is lost or
 * doubled at the worst moments.
 */
let armed: { point: string; remaining: number } | undefined;

export function armCrashPoint(spec: string | undefined): void {
  if (!spec) {
    armed = undefined;
    return;
  }
  const [point, n] = spec.split(':');
  armed = { point: point!, remaining: n ? Math.max(1, Number(n)) : 1 };
}

export function crashPoint(point: string): void {
  if (!armed || armed.point !== point) return;
  armed.remaining -= 1;
  if (armed.remaining > 0) return;
  process.stderr.write(`crash point ${point} reached: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
