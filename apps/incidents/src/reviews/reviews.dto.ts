import { z } from 'zod';

export const REVIEW_STATUSES = ['draft', 'in-review', 'published'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export const ReviewId = z.uuid({ message: 'must be a review id (a UUID)' });
export const ActionItemId = z.uuid({ message: 'must be an action item id (a UUID)' });
const UserId = z.uuid({ message: 'must be a user id (a UUID)' });
const DueDate = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

export const UpdateReviewInput = z
  .strictObject({
    status: z.enum(REVIEW_STATUSES, { message: `must be one of ${REVIEW_STATUSES.join(', ')}` }).optional(),
    whatHappened: z.string().max(50000).optional(),
    impact: z.string().max(20000).optional(),
    rootCause: z.string().max(20000).optional(),
    ownerId: UserId.nullable().optional(),
  })
  .refine((u) => Object.keys(u).length > 0, { message: 'change at least one of status, whatHappened, impact, rootCause, ownerId' });
export type UpdateReviewInput = z.output<typeof UpdateReviewInput>;

export const ActionItemInput = z.strictObject({
  description: z.string().trim().min(1, 'describe the action').max(2000),
  ownerId: UserId.nullable().default(null),
  dueDate: DueDate.nullable().default(null),
});
export type ActionItemInput = z.output<typeof ActionItemInput>;

export const UpdateActionItemInput = z
  .strictObject({
    description: z.string().trim().min(1).max(2000).optional(),
    ownerId: UserId.nullable().optional(),
    dueDate: DueDate.nullable().optional(),
    status: z.enum(['open', 'done'], { message: 'must be open or done' }).optional(),
  })
  .refine((u) => Object.keys(u).length > 0, { message: 'change at least one of description, ownerId, dueDate, status' });
export type UpdateActionItemInput = z.output<typeof UpdateActionItemInput>;

export const ListReviewsQuery = z.strictObject({
  status: z.enum(REVIEW_STATUSES, { message: `must be one of ${REVIEW_STATUSES.join(', ')}` }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
