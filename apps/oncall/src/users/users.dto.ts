import { z } from 'zod';
import { ROLES } from '#libs/auth';
import { timeZone } from '../common/validation.js';

export const CreateUser = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320),
  timeZone: timeZone.default('UTC'),
  role: z.enum(ROLES).default('responder'),
});
export type CreateUser = z.output<typeof CreateUser>;

export const UpdateUser = CreateUser.partial();
export type UpdateUser = z.output<typeof UpdateUser>;

export const IssueToken = z.strictObject({
  /** At most a year: a token is a credential, and long-lived ones are how credentials leak for good. */
  expiresInDays: z.number().int().min(1).max(365).default(90),
  /** What it is for ("Grafana", "Terraform"), shown in the list. */
  name: z.string().trim().max(200).default(''),
  /** A read-only token (dashboards, exports, audits): every service refuses it any change. */
  readOnly: z.boolean().default(false),
});
