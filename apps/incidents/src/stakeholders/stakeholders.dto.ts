import { z } from 'zod';

/** A stakeholder: a directory user (their email follows the directory), or an outside address. */
export const StakeholderInput = z.union(
  [
    z.strictObject({ userId: z.uuid({ message: 'must be a user id (a UUID)' }) }),
    z.strictObject({ email: z.email({ message: 'must be an email address' }).max(320), name: z.string().trim().min(1).max(200).nullable().default(null) }),
  ],
  { message: 'give either {"userId": "…"} for a Klaxon user or {"email": "…", "name": "…"} for anyone else' },
);
export type StakeholderInput = z.output<typeof StakeholderInput>;

export const StakeholderUpdateInput = z.strictObject({
  summary: z.string().trim().min(1, 'a summary is required').max(500),
  message: z.string().trim().min(1, 'a message is required').max(20000),
});
export type StakeholderUpdateInput = z.output<typeof StakeholderUpdateInput>;

export const StakeholderId = z.uuid({ message: 'must be a stakeholder id (a UUID)' });
