import type { IANAZone } from 'luxon';
import type { CompiledLayer, Shift } from './spec.js';
import { DAY, fromWall, startOfDay, startOfWeek, toWall, type Instant } from './wall-clock.js';

/*
 * One layer's rotation: turn k starts at the wall-clock reading firstHandoff + k × turnLength and
 * belongs to participants[k mod n]. The reading becomes an instant by the zone's rules
 * (wall-clock.ts), so a daily 09:00 handoff stays at 09:00 local and the turn across a DST change
 * lasts 23 or 25 hours. Turns are contiguous: each handoff ends one turn and starts the next.
 */

/** The instant of handoff k, never earlier than handoff k-1 (a guard against odd zone data). */
function handoff(layer: CompiledLayer, zone: IANAZone, k: number): Instant {
  const at = fromWall(layer.firstHandoff + k * layer.turnLength, zone);
  if (k === 0) return at;
  return Math.max(at, fromWall(layer.firstHandoff + (k - 1) * layer.turnLength, zone));
}

/** The turn in force at `at`, or -1 before the first handoff. */
export function turnIndexAt(layer: CompiledLayer, zone: IANAZone, at: Instant): number {
  if (at < handoff(layer, zone, 0)) return -1;
  // The wall reading gives the turn up to an hour's ambiguity around DST changes; settle it on instants.
  let k = Math.max(0, Math.floor((toWall(at, zone) - layer.firstHandoff) / layer.turnLength));
  while (k > 0 && handoff(layer, zone, k) > at) k--;
  while (handoff(layer, zone, k + 1) <= at) k++;
  return k;
}

/** The layer's rotation turns overlapping [from, to), clipped to it, before restrictions. */
export function rotationTurns(layer: CompiledLayer, zone: IANAZone, from: Instant, to: Instant): Shift[] {
  const shifts: Shift[] = [];
  let k = Math.max(0, turnIndexAt(layer, zone, from));
  let start = handoff(layer, zone, k);
  while (start < to) {
    const end = handoff(layer, zone, k + 1);
    const s = Math.max(start, from);
    const e = Math.min(end, to);
    if (e > s) shifts.push({ userId: layer.participants[k % layer.participants.length]!, start: s, end: e });
    k++;
    start = end;
  }
  return shifts;
}

/** When a restricted layer is open within [from, to): sorted, merged intervals. Null windows = always. */
export function openWindows(layer: CompiledLayer, zone: IANAZone, from: Instant, to: Instant): [Instant, Instant][] {
  if (!layer.windows) return [[from, to]];
  const raw: [Instant, Instant][] = [];
  for (const w of layer.windows) {
    const periodStart = w.period === DAY ? startOfDay : startOfWeek;
    // A window may start in the previous period and still be open at `from`.
    for (let p = periodStart(toWall(from, zone)) - w.period; p <= toWall(to, zone); p += w.period) {
      const s = fromWall(p + w.start, zone);
      const e = fromWall(p + w.end, zone);
      if (e > from && s < to && e > s) raw.push([Math.max(s, from), Math.min(e, to)]);
    }
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: [Instant, Instant][] = [];
  for (const w of raw) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else merged.push([w[0], w[1]]);
  }
  return merged;
}

/** Who this layer has on call within [from, to): its turns masked by its restriction. */
export function layerShifts(layer: CompiledLayer, zone: IANAZone, from: Instant, to: Instant): Shift[] {
  const turns = rotationTurns(layer, zone, from, to);
  if (!layer.windows) return turns;
  const windows = openWindows(layer, zone, from, to);
  const out: Shift[] = [];
  let w = 0;
  for (const t of turns) {
    while (w < windows.length && windows[w]![1] <= t.start) w++;
    for (let i = w; i < windows.length && windows[i]![0] < t.end; i++) {
      const s = Math.max(t.start, windows[i]![0]);
      const e = Math.min(t.end, windows[i]![1]);
      if (e > s) out.push({ userId: t.userId, start: s, end: e });
    }
  }
  return out;
}
