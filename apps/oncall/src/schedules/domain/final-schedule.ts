import { layerShifts } from './rotation.js';
import { compileSchedule, type CompiledSchedule, type ScheduleSpec, type Shift } from './spec.js';
import { DAY, type Instant } from './wall-clock.js';

/*
 * The final schedule: at every instant, the latest override covering it, else the highest layer
 * that has someone on call, else nobody. Consecutive pieces with the same person are one shift,
 * so the final schedule of a long range is the concatenation of the final schedules of its parts.
 */

type Compiled = CompiledSchedule | ScheduleSpec;
const compiled = (s: Compiled): CompiledSchedule => ('zone' in s ? s : compileSchedule(s));

/** Who is on call within [from, to): sorted, non-overlapping shifts; time with nobody is absent. */
export function finalSchedule(schedule: Compiled, from: Instant, to: Instant): Shift[] {
  if (!(to > from)) return [];
  const s = compiled(schedule);
  const layers = s.layers.map((l) => layerShifts(l, s.zone, from, to));
  const overrides = s.overrides.filter((o) => o.end > from && o.start < to);

  const points = new Set<Instant>([from, to]);
  for (const shifts of layers) for (const sh of shifts) points.add(sh.start).add(sh.end);
  for (const o of overrides) points.add(Math.max(o.start, from)).add(Math.min(o.end, to));
  const cuts = [...points].sort((a, b) => a - b);

  const cursor = layers.map(() => 0);
  const out: Shift[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i]!;
    const b = cuts[i + 1]!;
    const who = overrideAt(overrides, a) ?? layerAt(layers, cursor, a);
    if (who === null) continue;
    const last = out[out.length - 1];
    if (last && last.userId === who && last.end === a) last.end = b;
    else out.push({ userId: who, start: a, end: b });
  }
  return out;
}

function overrideAt(overrides: ScheduleSpec['overrides'], at: Instant): string | null {
  for (let j = overrides.length - 1; j >= 0; j--) {
    const o = overrides[j]!;
    if (o.start <= at && at < o.end) return o.userId;
  }
  return null;
}

/** The highest layer with a shift covering `at`; cursors only move forward as `at` grows. */
function layerAt(layers: Shift[][], cursor: number[], at: Instant): string | null {
  for (let l = layers.length - 1; l >= 0; l--) {
    const shifts = layers[l]!;
    while (cursor[l]! < shifts.length && shifts[cursor[l]!]!.end <= at) cursor[l]!++;
    const sh = shifts[cursor[l]!];
    if (sh && sh.start <= at) return sh.userId;
  }
  return null;
}

/** The user on call at an instant, or null. */
export function onCallAt(schedule: Compiled, at: Instant): string | null {
  return finalSchedule(schedule, at, at + 1)[0]?.userId ?? null;
}

/**
 * The shift in force at `at` with its real bounds, looking up to `horizon` either way (a bound at
 * the horizon means "at least until then").
 */
export function shiftAt(schedule: Compiled, at: Instant, horizon = 35 * DAY): Shift | null {
  return finalSchedule(schedule, at - horizon, at + horizon).find((sh) => sh.start <= at && at < sh.end) ?? null;
}

/** Times within [from, to) with nobody on call. */
export function coverageGaps(schedule: Compiled, from: Instant, to: Instant): { start: Instant; end: Instant }[] {
  const gaps: { start: Instant; end: Instant }[] = [];
  let at = from;
  for (const sh of finalSchedule(schedule, from, to)) {
    if (sh.start > at) gaps.push({ start: at, end: sh.start });
    at = sh.end;
  }
  if (at < to) gaps.push({ start: at, end: to });
  return gaps;
}
