import type { IANAZone } from 'luxon';
import { DAY, HOUR, WEEK, parseDate, parseTimeOfDay, zoneOf, type Instant, type WallTime } from './wall-clock.js';

/*
 * A schedule as plain data, in the words of its API (times of day as "HH:mm", dates as
 * "YYYY-MM-DD" in the schedule's zone), and its compiled form with every wall-clock reading parsed
 * once. No framework, no database: the API validates these shapes with zod, the maths reads them.
 */

export type TurnUnit = 'hours' | 'days' | 'weeks';

export interface DailyWindow {
  /** "09:00": opens at this local time every day. */
  start: string;
  /** "17:00": closes at this local time; at or before `start` means the next day (a night window). */
  end: string;
}

export interface WeeklyWindow {
  /** 1 = Monday … 7 = Sunday (ISO 8601). */
  startDay: number;
  startTime: string;
  endDay: number;
  /** At or before the start in the same week means the following week (Fri 18:00 → Mon 08:00). */
  endTime: string;
}

export type Restriction = { type: 'daily'; windows: DailyWindow[] } | { type: 'weekly'; windows: WeeklyWindow[] };

export interface LayerSpec {
  name: string;
  /** User ids in turn order; a user may appear more than once. */
  participants: string[];
  turn: { unit: TurnUnit; count: number };
  /** The first turn starts on this date at `handoffTime`; before it the layer has nobody. */
  startDate: string;
  /** Every handoff happens at a wall-clock time: this one plus whole turns. */
  handoffTime: string;
  /** Outside these windows the layer has nobody on call. */
  restriction: Restriction | null;
}

export interface OverrideSpec {
  userId: string;
  start: Instant;
  end: Instant;
}

export interface ScheduleSpec {
  timeZone: string;
  /** Ordered from the bottom: where a later layer has someone on call, it wins. */
  layers: LayerSpec[];
  /** Later entries win where overrides for different users overlap. */
  overrides: OverrideSpec[];
}

export interface Shift {
  userId: string;
  start: Instant;
  end: Instant;
}

export interface CompiledLayer {
  participants: string[];
  /** Length of a turn in wall-clock ms (a "day" is 24 wall hours, 23 or 25 real ones across DST). */
  turnLength: number;
  firstHandoff: WallTime;
  /** Wall-clock windows relative to the start of a day or of a week; null = always open. */
  windows: { period: number; start: number; end: number }[] | null;
}

export interface CompiledSchedule {
  zone: IANAZone;
  layers: CompiledLayer[];
  overrides: OverrideSpec[];
}

const UNIT: Record<TurnUnit, number> = { hours: HOUR, days: DAY, weeks: WEEK };

export function compileLayer(layer: LayerSpec): CompiledLayer {
  if (layer.participants.length === 0) throw new RangeError(`layer "${layer.name}" has no participants`);
  const turnLength = UNIT[layer.turn.unit] * layer.turn.count;
  if (!(turnLength >= HOUR)) throw new RangeError(`layer "${layer.name}": a turn must last at least one hour`);
  return {
    participants: layer.participants,
    turnLength,
    firstHandoff: parseDate(layer.startDate) + parseTimeOfDay(layer.handoffTime) * 60_000,
    windows: layer.restriction ? compileRestriction(layer.name, layer.restriction) : null,
  };
}

function compileRestriction(layerName: string, r: Restriction): CompiledLayer['windows'] {
  if (r.windows.length === 0) throw new RangeError(`layer "${layerName}": a restriction needs at least one window, or none at all`);
  if (r.type === 'daily') {
    return r.windows.map((w) => {
      const start = parseTimeOfDay(w.start) * 60_000;
      let end = parseTimeOfDay(w.end) * 60_000;
      if (end === start) throw new RangeError(`layer "${layerName}": the window ${w.start}–${w.end} never opens; drop the restriction to cover whole days`);
      if (end < start) end += DAY;
      return { period: DAY, start, end };
    });
  }
  return r.windows.map((w) => {
    const start = (w.startDay - 1) * DAY + parseTimeOfDay(w.startTime) * 60_000;
    let end = (w.endDay - 1) * DAY + parseTimeOfDay(w.endTime) * 60_000;
    if (end === start)
      throw new RangeError(`layer "${layerName}": a weekly window that ends when it starts never opens; drop the restriction to cover whole weeks`);
    if (end < start) end += WEEK;
    return { period: WEEK, start, end };
  });
}

export function compileSchedule(spec: ScheduleSpec): CompiledSchedule {
  return { zone: zoneOf(spec.timeZone), layers: spec.layers.map(compileLayer), overrides: spec.overrides };
}

/** Checks a layer as the API receives it; the message says what to fix. */
export function layerProblem(layer: LayerSpec): string | null {
  try {
    compileLayer(layer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
