import { z } from 'zod';
import { AutomaticReviews, Grouping, UrgencyRule } from '#libs/contracts';
import { isValidZone } from '../schedules/domain/wall-clock.js';

export const ServiceInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  teamId: z.uuid().nullable().default(null),
  escalationPolicyId: z.uuid().nullable().default(null),
  urgencyRule: UrgencyRule.default({ type: 'constant', urgency: 'high' }).superRefine((rule, ctx) => {
    if (rule.type !== 'support-hours') return;
    if (!isValidZone(rule.timeZone)) ctx.addIssue({ code: 'custom', path: ['timeZone'], message: 'must be an IANA time zone such as Europe/Berlin' });
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(rule.start) || !/^([01]\d|2[0-3]):[0-5]\d$/.test(rule.end)) {
      ctx.addIssue({ code: 'custom', message: 'start and end must be times of day HH:mm (00:00 to 23:59)' });
    }
  }),
  grouping: Grouping.default({ mode: 'none' }),
  /** PagerDuty's default: an acknowledged incident returns to triggered after 30 minutes. null turns it off. */
  ackTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .nullable()
    .default(1800),
  autoResolveOnAlertResolve: z.boolean().default(true),
  autoResolveTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .nullable()
    .default(null),
  /** Draft post-incident reviews on resolve: 'off', 'major' (the default) or 'major-and-p1-p2'. */
  automaticReviews: AutomaticReviews.default('major'),
});
export type ServiceInput = z.output<typeof ServiceInput>;
