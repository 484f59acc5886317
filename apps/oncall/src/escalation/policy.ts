import { z } from 'zod';

/*
 * Escalation policies as plain data, and the arithmetic of moving through them. No framework here.
 *
 * A policy is an ordered list of steps. Step 1 pages at once when an incident triggers. Each step
 * has `delayMinutes`: how long Klaxon waits after that step paged before it moves on to the next
 * step (PagerDuty's "escalates after N minutes"). After the last step the policy starts over at
 * step 1, `repeatCount` more times; then escalation is exhausted.
 */

/**
 * Whom a step pages: a user; a schedule (whoever is on call on it when the step fires); or a team
 * (its managers and responders, not its observers).
 */
export const Target = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), id: z.uuid() }),
  z.strictObject({ type: z.literal('schedule'), id: z.uuid() }),
  z.strictObject({ type: z.literal('team'), id: z.uuid() }),
]);
export type Target = z.output<typeof Target>;

export const Step = z.strictObject({
  delayMinutes: z
    .number()
    .int()
    .min(1, 'must be at least 1 minute')
    .max(24 * 60),
  targets: z.array(Target).min(1, 'a step needs at least one target').max(20),
});
export type Step = z.output<typeof Step>;

export const PolicyInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  /** The owning team: its managers may change the policy. */
  teamId: z.uuid({ message: 'must be a team id (a UUID)' }).nullable().default(null),
  repeatCount: z.number().int().min(0).max(9).default(0),
  steps: z.array(Step).min(1, 'a policy needs at least one step').max(20),
});
export type PolicyInput = z.output<typeof PolicyInput>;

/** What an incident keeps of its policy when it triggers; later edits do not change it. */
export interface PolicySnapshot {
  id: string;
  name: string;
  repeatCount: number;
  steps: Step[];
}

export interface Position {
  step: number;
  loop: number;
}

/** The position after `at`, or null when the policy is exhausted. */
export function nextPosition(policy: PolicySnapshot, at: Position): Position | null {
  if (at.step + 1 < policy.steps.length) return { step: at.step + 1, loop: at.loop };
  if (at.loop < policy.repeatCount) return { step: 0, loop: at.loop + 1 };
  return null;
}

/** How many step firings a policy makes at most, repeats included. */
export function totalFirings(policy: PolicySnapshot): number {
  return policy.steps.length * (policy.repeatCount + 1);
}
