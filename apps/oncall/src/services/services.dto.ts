import { z } from 'zod';
import { Grouping, UrgencyRule } from '#libs/contracts';

export const ServiceInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  teamId: z.uuid().nullable().default(null),
  escalationPolicyId: z.uuid().nullable().default(null),
  urgencyRule: UrgencyRule.default({ type: 'constant', urgency: 'high' }),
  grouping: Grouping.default({ mode: 'none' }),
  /** PagerDuty's default: an acknowledged incident returns to triggered after 30 minutes. null turns it off. */
  ackTimeoutSeconds: z.number().int().min(60).max(7 * 86400).nullable().default(1800),
  autoResolveOnAlertResolve: z.boolean().default(true),
  autoResolveTimeoutSeconds: z.number().int().min(60).max(30 * 86400).nullable().default(null),
});
export type ServiceInput = z.output<typeof ServiceInput>;
