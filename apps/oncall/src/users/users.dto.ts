import { z } from 'zod';
import { ROLES } from '#libs/auth';

export const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/Berlin' },
);

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
