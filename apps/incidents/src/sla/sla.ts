/*
 * SLA clocks as plain data and functions. Each incident has two clocks, "acknowledge" and
 * "resolve". A clock starts when the incident opens, pauses while the incident is snoozed, and
 * stops at the first acknowledgement (acknowledge goal) or at resolution (both goals). A clock
 * has a target only when the service's SLA policy sets one for the incident's priority; the
 * target follows priority changes, while the time already counted stays.
 */

export type SlaGoal = 'acknowledge' | 'resolve';
export const SLA_GOALS: readonly SlaGoal[] = ['acknowledge', 'resolve'];

export interface SlaClock {
  goal: SlaGoal;
  /** null: the service has no goal for this priority. */
  targetSeconds: number | null;
  startedAt: Date;
  /** Paused time already counted, excluding a pause in progress. */
  pausedMs: number;
  pausedSince: Date | null;
  stoppedAt: Date | null;
  breachedAt: Date | null;
}

export type SlaStatus = 'running' | 'paused' | 'met' | 'breached';

export interface SlaView {
  goal: SlaGoal;
  targetSeconds: number;
  status: SlaStatus;
  /** When the goal is (or was) due at the current pace; null while paused. */
  dueAt: Date | null;
  /** Working time left before a breach (negative once breached), frozen while paused or stopped. */
  remainingSeconds: number;
  elapsedSeconds: number;
  breachedAt: Date | null;
  stoppedAt: Date | null;
}

/** Working time counted so far: wall time since the start, minus paused time, up to the stop. */
export function elapsedMs(c: SlaClock, now: Date): number {
  const end = (c.stoppedAt ?? now).getTime();
  const pausing = c.pausedSince ? Math.max(0, end - c.pausedSince.getTime()) : 0;
  return Math.max(0, end - c.startedAt.getTime() - c.pausedMs - pausing);
}

/** When a running clock breaches; null when paused, stopped or without a target. */
export function dueAt(c: SlaClock): Date | null {
  if (c.targetSeconds === null || c.pausedSince || c.stoppedAt) return null;
  return new Date(c.startedAt.getTime() + c.pausedMs + c.targetSeconds * 1000);
}

export function isBreached(c: SlaClock, now: Date): boolean {
  if (c.breachedAt) return true;
  return c.targetSeconds !== null && elapsedMs(c, now) >= c.targetSeconds * 1000;
}

export function view(c: SlaClock, now: Date): SlaView | null {
  if (c.targetSeconds === null) return null;
  const elapsed = elapsedMs(c, now);
  const breached = isBreached(c, now);
  const status: SlaStatus = breached ? 'breached' : c.stoppedAt ? 'met' : c.pausedSince ? 'paused' : 'running';
  const due = dueAt(c);
  return {
    goal: c.goal,
    targetSeconds: c.targetSeconds,
    status,
    dueAt: due ?? (c.stoppedAt || breached ? new Date(c.startedAt.getTime() + c.pausedMs + c.targetSeconds * 1000) : null),
    remainingSeconds: Math.floor((c.targetSeconds * 1000 - elapsed) / 1000),
    elapsedSeconds: Math.floor(elapsed / 1000),
    breachedAt: c.breachedAt,
    stoppedAt: c.stoppedAt,
  };
}

export function pause(c: SlaClock, at: Date): SlaClock {
  if (c.pausedSince || c.stoppedAt) return c;
  return { ...c, pausedSince: at };
}

export function resume(c: SlaClock, at: Date): SlaClock {
  if (!c.pausedSince) return c;
  return { ...c, pausedMs: c.pausedMs + Math.max(0, at.getTime() - c.pausedSince.getTime()), pausedSince: null };
}

/** Stops the clock (a pause in progress ends at the same moment). A stopped clock stays stopped. */
export function stop(c: SlaClock, at: Date): SlaClock {
  if (c.stoppedAt) return c;
  return { ...resume(c, at), stoppedAt: at };
}

/** The breach the clock reached by `now`, at the moment it happened, or null. */
export function breachMoment(c: SlaClock, now: Date): Date | null {
  if (c.breachedAt || c.targetSeconds === null || c.stoppedAt || c.pausedSince) return null;
  const due = dueAt(c)!;
  return due.getTime() <= now.getTime() ? due : null;
}
