import { DateTime } from 'luxon';
import { coverageGaps, finalSchedule, onCallAt } from './final-schedule.js';
import type { LayerSpec, Restriction, ScheduleSpec, Shift } from './spec.js';
import { DAY, HOUR, MINUTE } from './wall-clock.js';

/*
 * Properties that hold for any schedule, checked on a few hundred random ones (seeded, so a failure
 * reproduces): shifts never overlap, a fully covered schedule has no gaps, overrides win, and the
 * final schedule of a long range is the concatenation of the final schedules of its parts.
 */

function rng(seed: number): () => number {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'UTC', 'Australia/Lord_Howe'];
// Times of day that DST makes interesting are drawn often.
const TIMES = ['00:00', '01:30', '02:00', '02:30', '03:00', '08:00', '09:00', '17:30', '23:45'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];

function randomSchedule(r: () => number, opts: { fullyCovered?: boolean } = {}): { spec: ScheduleSpec; from: number; to: number } {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const from = Date.UTC(2024, 0, 1) + Math.floor(r() * 330 * DAY);
  const to = from + int(1, 45) * DAY + int(0, 23) * HOUR;
  const layers: LayerSpec[] = Array.from({ length: int(1, 3) }, (_, i) => {
    const unit = pick(['hours', 'days', 'days', 'weeks'] as const);
    const restricted = (i > 0 || !opts.fullyCovered) && r() < 0.5;
    let restriction: Restriction | null = null;
    if (restricted) {
      restriction =
        r() < 0.5
          ? { type: 'daily', windows: [{ start: pick(TIMES), end: pick(TIMES.filter((t) => t !== '00:00')) }].filter((w) => w.start !== w.end) }
          : { type: 'weekly', windows: [{ startDay: int(1, 7), startTime: pick(TIMES), endDay: int(1, 7), endTime: '12:15' }] };
      if (restriction.windows.length === 0) restriction = null;
    }
    const startBefore = opts.fullyCovered && i === 0;
    const start = DateTime.fromMillis(startBefore ? from - int(2, 60) * DAY : from + int(-20, 20) * DAY, { zone: 'UTC' });
    return {
      name: `layer ${i}`,
      participants: Array.from({ length: int(1, 4) }, () => pick(USERS)),
      turn: { unit, count: unit === 'hours' ? int(1, 36) : int(1, 3) },
      startDate: start.toFormat('yyyy-MM-dd'),
      handoffTime: pick(TIMES),
      restriction,
    };
  });
  const overrides = Array.from({ length: int(0, 4) }, () => {
    const start = from + Math.floor(r() * (to - from)) - 6 * HOUR;
    return { userId: pick(USERS), start, end: start + int(1, 96) * 30 * MINUTE };
  });
  return { spec: { timeZone: pick(ZONES), layers, overrides }, from, to };
}

function merge(shifts: Shift[]): Shift[] {
  const out: Shift[] = [];
  for (const s of shifts) {
    const last = out[out.length - 1];
    if (last && last.userId === s.userId && last.end === s.start) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

const CASES = 300;

describe('schedule properties over random schedules in DST zones', () => {
  it('gives sorted, non-overlapping, non-empty shifts inside the range, merged where one person continues', () => {
    const r = rng(1);
    for (let n = 0; n < CASES; n++) {
      const { spec, from, to } = randomSchedule(r);
      const shifts = finalSchedule(spec, from, to);
      let prev: Shift | undefined;
      for (const s of shifts) {
        expect(s.end).toBeGreaterThan(s.start);
        expect(s.start).toBeGreaterThanOrEqual(from);
        expect(s.end).toBeLessThanOrEqual(to);
        if (prev) {
          expect(s.start).toBeGreaterThanOrEqual(prev.end);
          if (s.start === prev.end) expect(s.userId).not.toBe(prev.userId);
        }
        prev = s;
      }
    }
  });

  it('leaves no gap in a schedule whose bottom layer is unrestricted and already started', () => {
    const r = rng(2);
    for (let n = 0; n < CASES; n++) {
      const { spec, from, to } = randomSchedule(r, { fullyCovered: true });
      expect(coverageGaps(spec, from, to)).toEqual([]);
      const shifts = finalSchedule(spec, from, to);
      expect(shifts[0]!.start).toBe(from);
      expect(shifts[shifts.length - 1]!.end).toBe(to);
      for (let i = 1; i < shifts.length; i++) expect(shifts[i]!.start).toBe(shifts[i - 1]!.end);
    }
  });

  it('lets the latest override covering an instant decide who is on call', () => {
    const r = rng(3);
    for (let n = 0; n < CASES; n++) {
      const { spec } = randomSchedule(r);
      spec.overrides.forEach((o, i) => {
        const t = o.start + Math.floor(r() * (o.end - o.start));
        const winner = [...spec.overrides].reverse().find((x) => x.start <= t && t < x.end)!;
        expect(spec.overrides.indexOf(winner)).toBeGreaterThanOrEqual(i);
        expect(onCallAt(spec, t)).toBe(winner.userId);
      });
    }
  });

  it('computes a long range as the concatenation of its parts', () => {
    const r = rng(4);
    for (let n = 0; n < CASES; n++) {
      const { spec, from, to } = randomSchedule(r);
      const cuts = [from, ...Array.from({ length: 3 }, () => from + Math.floor(r() * (to - from))).sort((a, b) => a - b), to];
      const parts = cuts.slice(1).flatMap((end, i) => finalSchedule(spec, cuts[i]!, end));
      expect(merge(parts)).toEqual(finalSchedule(spec, from, to));
    }
  });

  it('agrees with itself on who is on call at any instant', () => {
    const r = rng(5);
    for (let n = 0; n < CASES; n++) {
      const { spec, from, to } = randomSchedule(r);
      const shifts = finalSchedule(spec, from, to);
      for (let i = 0; i < 5; i++) {
        const t = from + Math.floor(r() * (to - from));
        expect(onCallAt(spec, t)).toBe(shifts.find((s) => s.start <= t && t < s.end)?.userId ?? null);
      }
    }
  });

  it('hands a daily rotation over at the same wall-clock time every day, 23 to 25 hours apart', () => {
    const r = rng(6);
    for (let n = 0; n < 100; n++) {
      const zone = ZONES[n % ZONES.length]!;
      const handoffTime = ['09:00', '00:00', '18:30'][n % 3]!;
      const spec: ScheduleSpec = {
        timeZone: zone,
        layers: [{ name: 'daily', participants: ['a', 'b'], turn: { unit: 'days', count: 1 }, startDate: '2023-12-01', handoffTime, restriction: null }],
        overrides: [],
      };
      const from = Date.UTC(2024, 0, 1) + Math.floor(r() * 300 * DAY);
      const shifts = finalSchedule(spec, from, from + 30 * DAY).slice(1, -1);
      for (const s of shifts) {
        expect(DateTime.fromMillis(s.start, { zone }).toFormat('HH:mm')).toBe(handoffTime);
        expect([23, 23.5, 24, 24.5, 25]).toContain((s.end - s.start) / HOUR);
      }
    }
  });
});
