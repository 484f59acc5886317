import { IANAZone } from 'luxon';
import { z } from 'zod';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2025-01-31T09:00:00Z' });

const Scope = {
  from: isoTime.transform((s) => new Date(s)).optional(),
  to: isoTime.transform((s) => new Date(s)).optional(),
  serviceId: z.uuid({ message: 'must be a service id (a UUID)' }).optional(),
  teamId: z.uuid({ message: 'must be a team id (a UUID)' }).optional(),
};

export const GROUPINGS = ['none', 'service', 'team', 'priority', 'urgency', 'day', 'week', 'month'] as const;
export type AnalyticsGrouping = (typeof GROUPINGS)[number];

export const ResponseTimesQuery = z
  .strictObject({
    ...Scope,
    groupBy: z.enum(GROUPINGS, { message: `must be one of ${GROUPINGS.join(', ')}` }).default('none'),
    /** Time zone of day/week/month periods. */
    timeZone: z
      .string()
      .refine((tz) => IANAZone.isValidZone(tz), { message: 'must be an IANA time zone, e.g. Europe/Paris' })
      .default('UTC'),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });
export type ResponseTimesQuery = z.output<typeof ResponseTimesQuery>;

export const VolumeQuery = z.strictObject(Scope).refine((q) => !q.from || !q.to || q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });
export type VolumeQuery = z.output<typeof VolumeQuery>;

export const SLA_GROUPINGS = ['none', 'service', 'team', 'priority'] as const;
export const SlaQuery = z
  .strictObject({ ...Scope, groupBy: z.enum(SLA_GROUPINGS, { message: `must be one of ${SLA_GROUPINGS.join(', ')}` }).default('none') })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });
export type SlaQuery = z.output<typeof SlaQuery>;
