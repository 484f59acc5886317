import { DateTime } from 'luxon';
import { coverageGaps, finalSchedule, onCallAt, shiftAt } from './final-schedule.js';
import { layerShifts } from './rotation.js';
import { compileLayer, layerProblem, type LayerSpec, type ScheduleSpec, type Shift } from './spec.js';
import { fromWall, parseDate, parseTimeOfDay, zoneOf } from './wall-clock.js';

/*
 * Expected shifts are written by hand in the schedule's local time, with the offset a wall clock
 * there shows, and the length in real hours. DST dates used (2024):
 *   America/New_York   spring forward Sun 10 Mar 02:00 → 03:00, fall back Sun 3 Nov 02:00 → 01:00
 *   Europe/Berlin      spring forward Sun 31 Mar 02:00 → 03:00, fall back Sun 27 Oct 03:00 → 02:00
 *   Australia/Sydney   DST ends Sun 7 Apr 03:00 → 02:00, DST starts Sun 6 Oct 02:00 → 03:00
 *   Asia/Kolkata       +05:30 all year
 */

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};

function show(shifts: Shift[], zone: string): string[] {
  const f = (ms: number): string => DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ');
  return shifts.map((s) => `${s.userId} ${f(s.start)} → ${f(s.end)} (${(s.end - s.start) / 3_600_000}h)`);
}

function layer(over: Partial<LayerSpec>): LayerSpec {
  return {
    name: 'primary',
    participants: ['A', 'B', 'C'],
    turn: { unit: 'days', count: 1 },
    startDate: '2024-01-01',
    handoffTime: '09:00',
    restriction: null,
    ...over,
  };
}

function schedule(timeZone: string, layers: Partial<LayerSpec>[], overrides: ScheduleSpec['overrides'] = []): ScheduleSpec {
  return { timeZone, layers: layers.map(layer), overrides };
}

const shifts = (spec: ScheduleSpec, from: string, to: string): string[] => show(finalSchedule(spec, at(from), at(to)), spec.timeZone);

describe('wall clock readings that DST makes odd', () => {
  const read = (zone: string, date: string, time: string): string =>
    DateTime.fromMillis(fromWall(parseDate(date) + parseTimeOfDay(time) * 60_000, zoneOf(zone)), { zone }).toFormat('yyyy-MM-dd HH:mm ZZ');

  it('moves a time that does not exist forward by the length of the gap', () => {
    expect(read('America/New_York', '2024-03-10', '02:30')).toBe('2024-03-10 03:30 -04:00');
    expect(read('Europe/Berlin', '2024-03-31', '02:30')).toBe('2024-03-31 03:30 +02:00');
    expect(read('Australia/Sydney', '2024-10-06', '02:30')).toBe('2024-10-06 03:30 +11:00');
  });

  it('takes the first occurrence of a time that happens twice', () => {
    expect(read('America/New_York', '2024-11-03', '01:30')).toBe('2024-11-03 01:30 -04:00');
    expect(read('Europe/Berlin', '2024-10-27', '02:30')).toBe('2024-10-27 02:30 +02:00');
    expect(read('Australia/Sydney', '2024-04-07', '02:30')).toBe('2024-04-07 02:30 +11:00');
  });

  it('reads ordinary times plainly, half-hour zones included', () => {
    expect(read('Asia/Kolkata', '2024-03-10', '02:30')).toBe('2024-03-10 02:30 +05:30');
    expect(read('America/New_York', '2024-03-10', '01:59')).toBe('2024-03-10 01:59 -05:00');
    expect(read('America/New_York', '2024-03-10', '03:00')).toBe('2024-03-10 03:00 -04:00');
  });

  it('refuses unknown zones, times and dates with a message naming them', () => {
    expect(() => zoneOf('Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => parseTimeOfDay('24:00')).toThrow('"24:00" is not a time of day');
    expect(() => parseDate('2024-02-30')).toThrow('"2024-02-30" is not a calendar date');
  });
});

describe('America/New_York', () => {
  it('keeps a daily 09:00 handoff at 09:00 across spring forward: that turn lasts 23 hours', () => {
    const spec = schedule('America/New_York', [{ startDate: '2024-03-08' }]);
    expect(shifts(spec, '2024-03-09T00:00-05:00', '2024-03-12T00:00-04:00')).toEqual([
      'A 2024-03-09 00:00 -05:00 → 2024-03-09 09:00 -05:00 (9h)',
      'B 2024-03-09 09:00 -05:00 → 2024-03-10 09:00 -04:00 (23h)',
      'C 2024-03-10 09:00 -04:00 → 2024-03-11 09:00 -04:00 (24h)',
      'A 2024-03-11 09:00 -04:00 → 2024-03-12 00:00 -04:00 (15h)',
    ]);
  });

  it('keeps it at 09:00 across fall back: that turn lasts 25 hours', () => {
    const spec = schedule('America/New_York', [{ participants: ['A', 'B'], startDate: '2024-11-01' }]);
    expect(shifts(spec, '2024-11-02T09:00-04:00', '2024-11-04T09:00-05:00')).toEqual([
      'B 2024-11-02 09:00 -04:00 → 2024-11-03 09:00 -05:00 (25h)',
      'A 2024-11-03 09:00 -05:00 → 2024-11-04 09:00 -05:00 (24h)',
    ]);
  });

  it('hands off at 03:30 when the 02:30 handoff falls in the spring-forward gap', () => {
    const spec = schedule('America/New_York', [{ startDate: '2024-03-09', handoffTime: '02:30' }]);
    expect(shifts(spec, '2024-03-09T02:30-05:00', '2024-03-12T02:30-04:00')).toEqual([
      'A 2024-03-09 02:30 -05:00 → 2024-03-10 03:30 -04:00 (24h)',
      'B 2024-03-10 03:30 -04:00 → 2024-03-11 02:30 -04:00 (23h)',
      'C 2024-03-11 02:30 -04:00 → 2024-03-12 02:30 -04:00 (24h)',
    ]);
  });

  it('hands off at the first 01:30 when fall back repeats it', () => {
    const spec = schedule('America/New_York', [{ startDate: '2024-11-02', handoffTime: '01:30' }]);
    expect(shifts(spec, '2024-11-02T01:30-04:00', '2024-11-05T01:30-05:00')).toEqual([
      'A 2024-11-02 01:30 -04:00 → 2024-11-03 01:30 -04:00 (24h)',
      'B 2024-11-03 01:30 -04:00 → 2024-11-04 01:30 -05:00 (25h)',
      'C 2024-11-04 01:30 -05:00 → 2024-11-05 01:30 -05:00 (24h)',
    ]);
    // During the repeated hour: 01:15 EDT is before the handoff, 01:15 EST after it.
    expect(onCallAt(spec, at('2024-11-03T01:15-04:00'))).toBe('A');
    expect(onCallAt(spec, at('2024-11-03T01:15-05:00'))).toBe('B');
  });

  it('keeps 12-hour turns at 08:00 and 20:00: the night of spring forward is 11 hours', () => {
    const spec = schedule('America/New_York', [
      { participants: ['day', 'night'], turn: { unit: 'hours', count: 12 }, startDate: '2024-03-09', handoffTime: '08:00' },
    ]);
    expect(shifts(spec, '2024-03-09T08:00-05:00', '2024-03-10T20:00-04:00')).toEqual([
      'day 2024-03-09 08:00 -05:00 → 2024-03-09 20:00 -05:00 (12h)',
      'night 2024-03-09 20:00 -05:00 → 2024-03-10 08:00 -04:00 (11h)',
      'day 2024-03-10 08:00 -04:00 → 2024-03-10 20:00 -04:00 (12h)',
    ]);
  });
});

describe('Europe/Berlin', () => {
  it('keeps a weekly Monday 10:00 handoff: the week with spring forward is 167 hours, the one with fall back 169', () => {
    const spec = schedule('Europe/Berlin', [{ participants: ['A', 'B'], turn: { unit: 'weeks', count: 1 }, startDate: '2024-03-25', handoffTime: '10:00' }]);
    expect(shifts(spec, '2024-03-25T10:00+01:00', '2024-04-08T10:00+02:00')).toEqual([
      'A 2024-03-25 10:00 +01:00 → 2024-04-01 10:00 +02:00 (167h)',
      'B 2024-04-01 10:00 +02:00 → 2024-04-08 10:00 +02:00 (168h)',
    ]);
    // 30 weeks later (even): A's turn starts 21 Oct and spans the October change.
    expect(shifts(spec, '2024-10-21T10:00+02:00', '2024-11-04T10:00+01:00')).toEqual([
      'A 2024-10-21 10:00 +02:00 → 2024-10-28 10:00 +01:00 (169h)',
      'B 2024-10-28 10:00 +01:00 → 2024-11-04 10:00 +01:00 (168h)',
    ]);
  });

  it('handles handoffs inside the gap and the overlap', () => {
    const spring = schedule('Europe/Berlin', [{ participants: ['A', 'B'], startDate: '2024-03-30', handoffTime: '02:30' }]);
    expect(shifts(spring, '2024-03-30T02:30+01:00', '2024-04-01T02:30+02:00')).toEqual([
      'A 2024-03-30 02:30 +01:00 → 2024-03-31 03:30 +02:00 (24h)',
      'B 2024-03-31 03:30 +02:00 → 2024-04-01 02:30 +02:00 (23h)',
    ]);
    const autumn = schedule('Europe/Berlin', [{ participants: ['A', 'B'], startDate: '2024-10-26', handoffTime: '02:30' }]);
    expect(shifts(autumn, '2024-10-26T02:30+02:00', '2024-10-28T02:30+01:00')).toEqual([
      'A 2024-10-26 02:30 +02:00 → 2024-10-27 02:30 +02:00 (24h)',
      'B 2024-10-27 02:30 +02:00 → 2024-10-28 02:30 +01:00 (25h)',
    ]);
  });

  it('opens a weekday 09:00–17:00 restriction at local 09:00 on both sides of the change', () => {
    const spec = schedule('Europe/Berlin', [
      {
        participants: ['A'],
        restriction: { type: 'weekly', windows: [1, 2, 3, 4, 5].map((d) => ({ startDay: d, startTime: '09:00', endDay: d, endTime: '17:00' })) },
      },
    ]);
    expect(shifts(spec, '2024-03-29T00:00+01:00', '2024-04-03T00:00+02:00')).toEqual([
      'A 2024-03-29 09:00 +01:00 → 2024-03-29 17:00 +01:00 (8h)',
      'A 2024-04-01 09:00 +02:00 → 2024-04-01 17:00 +02:00 (8h)',
      'A 2024-04-02 09:00 +02:00 → 2024-04-02 17:00 +02:00 (8h)',
    ]);
  });

  it('runs a Friday 18:00 → Monday 08:00 weekend window across spring forward (61 hours)', () => {
    const spec = schedule('Europe/Berlin', [
      { participants: ['W'], restriction: { type: 'weekly', windows: [{ startDay: 5, startTime: '18:00', endDay: 1, endTime: '08:00' }] } },
    ]);
    expect(shifts(spec, '2024-03-25T00:00+01:00', '2024-04-08T00:00+02:00')).toEqual([
      'W 2024-03-25 00:00 +01:00 → 2024-03-25 08:00 +01:00 (8h)',
      'W 2024-03-29 18:00 +01:00 → 2024-04-01 08:00 +02:00 (61h)',
      'W 2024-04-05 18:00 +02:00 → 2024-04-08 00:00 +02:00 (54h)',
    ]);
  });
});

describe('Australia/Sydney (southern hemisphere)', () => {
  it('keeps 08:00/20:00 handoffs when DST ends in April: that night is 13 hours', () => {
    const spec = schedule('Australia/Sydney', [
      { participants: ['A', 'B'], turn: { unit: 'hours', count: 12 }, startDate: '2024-04-06', handoffTime: '08:00' },
    ]);
    expect(shifts(spec, '2024-04-06T08:00+11:00', '2024-04-07T20:00+10:00')).toEqual([
      'A 2024-04-06 08:00 +11:00 → 2024-04-06 20:00 +11:00 (12h)',
      'B 2024-04-06 20:00 +11:00 → 2024-04-07 08:00 +10:00 (13h)',
      'A 2024-04-07 08:00 +10:00 → 2024-04-07 20:00 +10:00 (12h)',
    ]);
  });

  it('and when DST starts in October: that night is 11 hours', () => {
    const spec = schedule('Australia/Sydney', [
      { participants: ['A', 'B'], turn: { unit: 'hours', count: 12 }, startDate: '2024-10-05', handoffTime: '08:00' },
    ]);
    expect(shifts(spec, '2024-10-05T08:00+10:00', '2024-10-06T20:00+11:00')).toEqual([
      'A 2024-10-05 08:00 +10:00 → 2024-10-05 20:00 +10:00 (12h)',
      'B 2024-10-05 20:00 +10:00 → 2024-10-06 08:00 +11:00 (11h)',
      'A 2024-10-06 08:00 +11:00 → 2024-10-06 20:00 +11:00 (12h)',
    ]);
  });

  it('handles a 02:30 daily handoff on both change days', () => {
    const spec = schedule('Australia/Sydney', [{ participants: ['A', 'B'], startDate: '2024-04-06', handoffTime: '02:30' }]);
    expect(shifts(spec, '2024-04-06T02:30+11:00', '2024-04-08T02:30+10:00')).toEqual([
      'A 2024-04-06 02:30 +11:00 → 2024-04-07 02:30 +11:00 (24h)',
      'B 2024-04-07 02:30 +11:00 → 2024-04-08 02:30 +10:00 (25h)',
    ]);
    // 182 days later (even: A) the gap in October.
    expect(shifts(spec, '2024-10-05T02:30+10:00', '2024-10-07T02:30+11:00')).toEqual([
      'A 2024-10-05 02:30 +10:00 → 2024-10-06 03:30 +11:00 (24h)',
      'B 2024-10-06 03:30 +11:00 → 2024-10-07 02:30 +11:00 (23h)',
    ]);
  });

  it('runs a nightly 22:00–06:00 window across the April change (9 hours that night)', () => {
    const spec = schedule('Australia/Sydney', [{ participants: ['N'], restriction: { type: 'daily', windows: [{ start: '22:00', end: '06:00' }] } }]);
    expect(shifts(spec, '2024-04-06T12:00+11:00', '2024-04-08T12:00+10:00')).toEqual([
      'N 2024-04-06 22:00 +11:00 → 2024-04-07 06:00 +10:00 (9h)',
      'N 2024-04-07 22:00 +10:00 → 2024-04-08 06:00 +10:00 (8h)',
    ]);
  });
});

describe('Asia/Kolkata (half-hour offset, no DST)', () => {
  it('keeps daily turns 24 hours long while New York and Berlin change their clocks', () => {
    const spec = schedule('Asia/Kolkata', [{ participants: ['A', 'B'], startDate: '2024-03-09' }]);
    expect(shifts(spec, '2024-03-09T09:00+05:30', '2024-03-12T09:00+05:30')).toEqual([
      'A 2024-03-09 09:00 +05:30 → 2024-03-10 09:00 +05:30 (24h)',
      'B 2024-03-10 09:00 +05:30 → 2024-03-11 09:00 +05:30 (24h)',
      'A 2024-03-11 09:00 +05:30 → 2024-03-12 09:00 +05:30 (24h)',
    ]);
    expect(onCallAt(spec, at('2024-03-10T03:29Z'))).toBe('A');
    expect(onCallAt(spec, at('2024-03-10T03:30Z'))).toBe('B');
  });

  it('runs three 8-hour shifts a day from 06:00', () => {
    const spec = schedule('Asia/Kolkata', [
      { participants: ['X', 'Y', 'Z'], turn: { unit: 'hours', count: 8 }, startDate: '2024-03-31', handoffTime: '06:00' },
    ]);
    expect(shifts(spec, '2024-03-31T06:00+05:30', '2024-04-01T06:00+05:30')).toEqual([
      'X 2024-03-31 06:00 +05:30 → 2024-03-31 14:00 +05:30 (8h)',
      'Y 2024-03-31 14:00 +05:30 → 2024-03-31 22:00 +05:30 (8h)',
      'Z 2024-03-31 22:00 +05:30 → 2024-04-01 06:00 +05:30 (8h)',
    ]);
  });
});

describe('layers and overrides', () => {
  const base = { name: 'base', participants: ['A', 'B'], turn: { unit: 'weeks' as const, count: 1 }, startDate: '2024-01-01', handoffTime: '09:00' };
  const business = {
    name: 'business hours',
    participants: ['D'],
    restriction: { type: 'daily' as const, windows: [{ start: '09:00', end: '17:00' }] },
  };

  it('lets a higher layer win where it has someone, and the lower one fill the rest', () => {
    const spec = schedule('America/New_York', [base, business]);
    expect(shifts(spec, '2024-01-02T00:00-05:00', '2024-01-03T12:00-05:00')).toEqual([
      'A 2024-01-02 00:00 -05:00 → 2024-01-02 09:00 -05:00 (9h)',
      'D 2024-01-02 09:00 -05:00 → 2024-01-02 17:00 -05:00 (8h)',
      'A 2024-01-02 17:00 -05:00 → 2024-01-03 09:00 -05:00 (16h)',
      'D 2024-01-03 09:00 -05:00 → 2024-01-03 12:00 -05:00 (3h)',
    ]);
  });

  it('gives an override the whole schedule for its time, over every layer, and the later override wins', () => {
    const spec = schedule(
      'America/New_York',
      [base, business],
      [
        { userId: 'O', start: at('2024-01-02T08:00-05:00'), end: at('2024-01-02T10:00-05:00') },
        { userId: 'P', start: at('2024-01-02T09:30-05:00'), end: at('2024-01-02T11:00-05:00') },
      ],
    );
    expect(shifts(spec, '2024-01-02T07:00-05:00', '2024-01-02T12:00-05:00')).toEqual([
      'A 2024-01-02 07:00 -05:00 → 2024-01-02 08:00 -05:00 (1h)',
      'O 2024-01-02 08:00 -05:00 → 2024-01-02 09:30 -05:00 (1.5h)',
      'P 2024-01-02 09:30 -05:00 → 2024-01-02 11:00 -05:00 (1.5h)',
      'D 2024-01-02 11:00 -05:00 → 2024-01-02 12:00 -05:00 (1h)',
    ]);
  });

  it('covers a gap with an override, and merges a person on call from two layers into one shift', () => {
    const spec = schedule(
      'UTC',
      [{ participants: ['A'], restriction: { type: 'daily', windows: [{ start: '09:00', end: '17:00' }] } }],
      [{ userId: 'A', start: at('2024-01-02T17:00Z'), end: at('2024-01-02T20:00Z') }],
    );
    expect(shifts(spec, '2024-01-02T00:00Z', '2024-01-03T00:00Z')).toEqual(['A 2024-01-02 09:00 +00:00 → 2024-01-02 20:00 +00:00 (11h)']);
    expect(
      coverageGaps(spec, at('2024-01-02T00:00Z'), at('2024-01-03T00:00Z')).map((g) => [new Date(g.start).toISOString(), new Date(g.end).toISOString()]),
    ).toEqual([
      ['2024-01-02T00:00:00.000Z', '2024-01-02T09:00:00.000Z'],
      ['2024-01-02T20:00:00.000Z', '2024-01-03T00:00:00.000Z'],
    ]);
  });

  it('has nobody on a layer before its start date', () => {
    const spec = schedule('Europe/Berlin', [{ participants: ['A'], startDate: '2024-05-01' }]);
    expect(onCallAt(spec, at('2024-05-01T08:59+02:00'))).toBeNull();
    expect(onCallAt(spec, at('2024-05-01T09:00+02:00'))).toBe('A');
    expect(coverageGaps(spec, at('2024-04-30T00:00+02:00'), at('2024-05-02T00:00+02:00'))).toEqual([
      { start: at('2024-04-30T00:00+02:00'), end: at('2024-05-01T09:00+02:00') },
    ]);
  });

  it('tells the whole shift in force at an instant, not just the person', () => {
    const spec = schedule('America/New_York', [{ participants: ['A', 'B'], startDate: '2024-03-08' }]);
    const shift = shiftAt(spec, at('2024-03-10T12:00-04:00'))!;
    expect(show([shift], 'America/New_York')).toEqual(['A 2024-03-10 09:00 -04:00 → 2024-03-11 09:00 -04:00 (24h)']);
  });
});

describe('validation of layers', () => {
  it('names what is wrong', () => {
    expect(layerProblem(layer({ participants: [] }))).toBe('layer "primary" has no participants');
    expect(layerProblem(layer({ restriction: { type: 'daily', windows: [] } }))).toBe(
      'layer "primary": a restriction needs at least one window, or none at all',
    );
    expect(layerProblem(layer({ restriction: { type: 'daily', windows: [{ start: '09:00', end: '09:00' }] } }))).toContain('never opens');
    expect(layerProblem(layer({ restriction: { type: 'weekly', windows: [{ startDay: 2, startTime: '09:00', endDay: 2, endTime: '09:00' }] } }))).toContain(
      'never opens',
    );
    expect(layerProblem(layer({ handoffTime: '9am' }))).toBe('"9am" is not a time of day (HH:mm, 00:00 to 23:59)');
    expect(layerProblem(layer({ startDate: '2024-13-01' }))).toBe('"2024-13-01" is not a calendar date');
    expect(layerProblem(layer({}))).toBeNull();
  });

  it('does not produce shifts of zero length for a restricted layer', () => {
    const l = compileLayer(
      layer({ startDate: '2024-03-09', handoffTime: '00:00', restriction: { type: 'daily', windows: [{ start: '02:00', end: '02:30' }] } }),
    );
    const out = layerShifts(l, zoneOf('America/New_York'), at('2024-03-09T00:00-05:00'), at('2024-03-12T00:00-04:00'));
    expect(out.every((s) => s.end > s.start)).toBe(true);
    // On 10 March both ends fall in the gap and move forward an hour: 03:00–03:30 EDT.
    expect(show(out, 'America/New_York')).toEqual([
      'A 2024-03-09 02:00 -05:00 → 2024-03-09 02:30 -05:00 (0.5h)',
      'B 2024-03-10 03:00 -04:00 → 2024-03-10 03:30 -04:00 (0.5h)',
      'C 2024-03-11 02:00 -04:00 → 2024-03-11 02:30 -04:00 (0.5h)',
    ]);
  });
});
