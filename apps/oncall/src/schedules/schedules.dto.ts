import { z } from 'zod';
import { instant, timeOfDay, timeZone } from '../common/validation.js';
import { layerProblem } from './domain/spec.js';

const isoDay = z.number().int().min(1, 'days are 1 (Monday) to 7 (Sunday)').max(7, 'days are 1 (Monday) to 7 (Sunday)');

export const Restriction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('daily'), windows: z.array(z.strictObject({ start: timeOfDay, end: timeOfDay })).max(10) }),
  z.strictObject({
    type: z.literal('weekly'),
    windows: z.array(z.strictObject({ startDay: isoDay, startTime: timeOfDay, endDay: isoDay, endTime: timeOfDay })).max(28),
  }),
]);

export const LayerInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    participants: z.array(z.uuid({ message: 'participants are user ids (UUIDs)' })).max(100),
    turn: z.strictObject({ unit: z.enum(['hours', 'days', 'weeks']), count: z.number().int().min(1).max(366) }),
    startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD in the schedule's time zone"),
    handoffTime: timeOfDay.default('09:00'),
    restriction: Restriction.nullable().default(null),
  })
  .superRefine((layer, ctx) => {
    const problem = layerProblem(layer);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type LayerInput = z.output<typeof LayerInput>;

export const ScheduleInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  timeZone,
  teamId: z.uuid().nullable().default(null),
  /** From the bottom up: where a later layer has someone on call, it wins. */
  layers: z.array(LayerInput).min(1, 'a schedule needs at least one layer').max(10),
});
export type ScheduleInput = z.output<typeof ScheduleInput>;

export const OverrideInput = z
  .strictObject({ userId: z.uuid(), start: instant, end: instant })
  .refine((o) => Date.parse(o.end) > Date.parse(o.start), { message: 'end must be after start', path: ['end'] })
  .refine((o) => Date.parse(o.end) - Date.parse(o.start) <= 366 * 86_400_000, { message: 'an override lasts at most 366 days', path: ['end'] });
export type OverrideInput = z.output<typeof OverrideInput>;

export const RangeQuery = z
  .strictObject({ from: instant.optional(), to: instant.optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) > Date.parse(q.from), { message: 'to must be after from', path: ['to'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, { message: 'a range spans at most 366 days', path: ['to'] });
export type RangeQuery = z.output<typeof RangeQuery>;

export const AtQuery = z.strictObject({ at: instant.optional() });
export type AtQuery = z.output<typeof AtQuery>;

export const GapsQuery = z.strictObject({ from: instant.optional(), days: z.coerce.number().int().min(1).max(366).default(14) });
export type GapsQuery = z.output<typeof GapsQuery>;
