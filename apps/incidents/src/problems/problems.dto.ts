import { z } from 'zod';

export const PROBLEM_STATUSES = ['open', 'investigating', 'known-error', 'resolved'] as const;
export type ProblemStatus = (typeof PROBLEM_STATUSES)[number];

export const ProblemId = z.uuid({ message: 'must be a problem id (a UUID)' });

export const CreateProblemInput = z.strictObject({
  title: z.string().trim().min(1, 'a title is required').max(500),
  description: z.string().max(20000).default(''),
});

export const UpdateProblemInput = z
  .strictObject({
    title: z.string().trim().min(1).max(500).optional(),
    description: z.string().max(20000).optional(),
    status: z.enum(PROBLEM_STATUSES, { message: `must be one of ${PROBLEM_STATUSES.join(', ')}` }).optional(),
    rootCause: z.string().max(20000).optional(),
    workaround: z.string().max(20000).optional(),
  })
  .refine((u) => Object.keys(u).length > 0, { message: 'change at least one of title, description, status, rootCause, workaround' });

export const ListProblemsQuery = z.strictObject({
  status: z.enum(PROBLEM_STATUSES, { message: `must be one of ${PROBLEM_STATUSES.join(', ')}` }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const LinkProblemInput = z.strictObject({ problemId: ProblemId });
