import { z } from 'zod';

export const TEAM_ROLES = ['manager', 'responder', 'observer'] as const;

export const TeamInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  /** Managers and responders are paged when the team is an escalation target; observers are not. */
  members: z
    .array(z.strictObject({ userId: z.uuid({ message: 'must be a user id (a UUID)' }), role: z.enum(TEAM_ROLES).default('responder') }))
    .max(500)
    .default([])
    .refine((ms) => new Set(ms.map((m) => m.userId)).size === ms.length, { message: 'a user can be a member once; give them one role' }),
});
export type TeamInput = z.output<typeof TeamInput>;
