import { IANAZone } from 'luxon';

/*
 * Wall-clock arithmetic in an IANA zone, the base of all schedule maths.
 *
 * An `Instant` is a point in time (ms since the epoch). A `WallTime` is what a clock on the wall in
 * the schedule's zone reads, encoded as ms since 1970-01-01T00:00 of that calendar with no offset
 * ("naive" local time). Handoffs and restriction windows are defined in wall time and turned into
 * instants with `fromWall`, which settles the two readings DST makes ambiguous:
 *
 * - a reading that does not exist (inside a spring-forward gap, 02:30 in New York on the day clocks
 *   go from 02:00 to 03:00) is read with the offset in force before the gap, so it lands as far after
 *   the gap as it was into it: 02:30 → 03:30 EDT;
 * - a reading that happens twice (inside a fall-back overlap, 01:30 in New York on the day clocks go
 *   from 02:00 back to 01:00) means its first occurrence: 01:30 EDT, not 01:30 EST.
 *
 * These are the rules of RFC 5545 (iCalendar) §3.3.5 and of Temporal's "compatible"
 * disambiguation, so a calendar client shows Klaxon's handoffs where Klaxon puts them.
 */

export type Instant = number;
export type WallTime = number;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

const zones = new Map<string, IANAZone>();

/** The zone for an IANA name, or an error naming the bad zone. */
export function zoneOf(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = IANAZone.create(name);
    if (!zone.isValid) throw new RangeError(`unknown time zone "${name}": use an IANA name such as Europe/Berlin`);
    zones.set(name, zone);
  }
  return zone;
}

export function isValidZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

const offsets = new Map<string, Map<number, number>>();

/**
 * The zone's UTC offset (minutes) at an instant. Asking Intl is slow (microseconds), and schedule
 * maths asks thousands of times, so offsets are cached per UTC hour: an hour whose first and last
 * millisecond share an offset has that offset throughout (zones change offset at most once an hour);
 * an hour with a change in it is always asked afresh.
 */
function offsetAt(zone: IANAZone, at: Instant): number {
  let cache = offsets.get(zone.name);
  if (!cache) offsets.set(zone.name, (cache = new Map()));
  const hour = Math.floor(at / HOUR);
  let offset = cache.get(hour);
  if (offset === undefined) {
    const first = zone.offset(hour * HOUR);
    offset = first === zone.offset(hour * HOUR + HOUR - 1) ? first : Number.NaN;
    if (cache.size > 500_000) cache.clear();
    cache.set(hour, offset);
  }
  return Number.isNaN(offset) ? zone.offset(at) : offset;
}

export function toWall(at: Instant, zone: IANAZone): WallTime {
  return at + offsetAt(zone, at) * MINUTE;
}

/** The instant a wall-clock reading stands for (see the rules above). */
export function fromWall(wall: WallTime, zone: IANAZone): Instant {
  // Every offset in force within a day either side is a candidate; real zones change offset at most
  // once in that span.
  const candidates = [...new Set([offsetAt(zone, wall - DAY), offsetAt(zone, wall), offsetAt(zone, wall + DAY)])].map((o) => wall - o * MINUTE);
  const valid = candidates.filter((at) => toWall(at, zone) === wall);
  if (valid.length) return Math.min(...valid); // repeated: the first occurrence
  // Nonexistent: reading it with the earlier (smaller) offset gives the latest candidate.
  return Math.max(...candidates);
}

/** "09:30" → minutes after midnight. */
export function parseTimeOfDay(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError(`"${hhmm}" is not a time of day (HH:mm, 00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** "2024-03-10" → the wall time of that day's midnight. */
export function parseDate(ymd: string): WallTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) throw new RangeError(`"${ymd}" is not a date (YYYY-MM-DD)`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(wall);
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) {
    throw new RangeError(`"${ymd}" is not a calendar date`);
  }
  return wall;
}

/** Midnight of the wall day containing `wall`. */
export function startOfDay(wall: WallTime): WallTime {
  return Math.floor(wall / DAY) * DAY;
}

/** Monday 00:00 of the ISO week containing `wall`. */
export function startOfWeek(wall: WallTime): WallTime {
  const day = startOfDay(wall);
  return day - (isoWeekday(day) - 1) * DAY;
}

/** 1 = Monday … 7 = Sunday. */
export function isoWeekday(wall: WallTime): number {
  return ((new Date(wall).getUTCDay() + 6) % 7) + 1;
}
