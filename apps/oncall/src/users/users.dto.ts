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
  expiresInDays: z.number().int().min(1).max(3650).default(90),
});
