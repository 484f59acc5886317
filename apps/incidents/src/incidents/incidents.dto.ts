import { z } from 'zod';
import { Priority } from '#libs/contracts';

export const IncidentId = z.uuid({ message: 'must be an incident id (a UUID)' });

const STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;
const PRIORITIES = Priority.options;

/** `a,b,c` or a repeated parameter, each value from a closed list (aliases expand to several values). */
function csv<T extends string>(values: readonly T[], what: string, aliases: Record<string, T[]> = {}) {
  const accepted = [...values, ...Object.keys(aliases)];
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(accepted as [string, ...string[]], { message: `each ${what} must be one of ${accepted.join(', ')}` })))
    .transform((list) => [...new Set(list.flatMap((s) => aliases[s] ?? [s as T]))]);
}

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2025-01-31T09:00:00Z' });

export const ListIncidentsQuery = z
  .strictObject({
    status: csv(STATUSES, 'status', { open: ['triggered', 'acknowledged'] }).optional(),
    serviceId: z.uuid({ message: 'must be a service id (a UUID)' }).optional(),
    teamId: z.uuid({ message: 'must be a team id (a UUID)' }).optional(),
    priority: csv(PRIORITIES, 'priority').optional(),
    urgency: z.enum(['high', 'low']).optional(),
    major: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .transform((v) => v === 'true')
      .optional(),
    assignee: z.uuid({ message: 'must be a user id (a UUID)' }).optional(),
    problemId: z.uuid({ message: 'must be a problem id (a UUID)' }).optional(),
    from: isoTime.transform((s) => new Date(s)).optional(),
    to: isoTime.transform((s) => new Date(s)).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });
export type ListIncidentsQuery = z.output<typeof ListIncidentsQuery>;

export const TimelineQuery = z.strictObject({
  order: z.enum(['asc', 'desc']).default('desc'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const SnoozeInput = z
  .strictObject({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
    until: isoTime.optional(),
  })
  .refine((s) => (s.minutes === undefined) !== (s.until === undefined), {
    message: 'give either "minutes" (1 to 10080) or "until" (an ISO 8601 time), not both',
  });
export type SnoozeInput = z.output<typeof SnoozeInput>;

export const ReassignInput = z.strictObject({
  userIds: z
    .array(z.uuid({ message: 'must be a user id (a UUID)' }))
    .min(1, 'name at least one user')
    .max(20),
});

export const PriorityInput = z.strictObject({
  priority: z.enum(PRIORITIES, { message: `must be one of ${PRIORITIES.join(', ')}` }),
});

export const MajorInput = z.strictObject({ major: z.boolean() });

export const NoteInput = z.strictObject({ text: z.string().trim().min(1, 'a note needs some text').max(10000) });

export const ConferenceBridgeInput = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) link' })
    .max(2000)
    .nullable(),
  dialIn: z.string().trim().max(200).nullable().default(null),
});
