import type { Severity } from '#libs/contracts';
/*
 * The incident state machine, as plain functions: triggered → acknowledged → resolved.
 * An acknowledged incident may return to triggered (acknowledgement timeout, snooze expiry, or a
 * responder withdrawing the acknowledgement). A resolved incident stays resolved; new alerts open
 * a new incident.
 */
export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export type { Severity };
export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export type Transition = { ok: true; to: IncidentStatus } | { ok: false; reason: 'already' | 'resolved' | 'not-acknowledged'; message: string };

export function acknowledge(from: IncidentStatus): Transition {
  if (from === 'triggered') return { ok: true, to: 'acknowledged' };
  if (from === 'acknowledged') return { ok: false, reason: 'already', message: 'already acknowledged' };
  return { ok: false, reason: 'resolved', message: 'already resolved' };
}

export function resolve(from: IncidentStatus): Transition {
  if (from === 'resolved') return { ok: false, reason: 'already', message: 'already resolved' };
  return { ok: true, to: 'resolved' };
}

/** Withdrawing an acknowledgement: only an acknowledged incident can go back to triggered. */
export function unacknowledge(from: IncidentStatus): Transition {
  if (from === 'acknowledged') return { ok: true, to: 'triggered' };
  if (from === 'resolved') return { ok: false, reason: 'resolved', message: 'already resolved' };
  return { ok: false, reason: 'not-acknowledged', message: 'not acknowledged' };
}

/** Snoozing acknowledges a triggered incident (as PagerDuty's "acknowledge and snooze" does). */
export function snooze(from: IncidentStatus): Transition {
  if (from === 'resolved') return { ok: false, reason: 'resolved', message: 'already resolved' };
  return { ok: true, to: 'acknowledged' };
}

/** Commands that only make sense while an incident is open: escalate, reassign, snooze. */
export function requireOpen(from: IncidentStatus): Transition {
  if (from === 'resolved') return { ok: false, reason: 'resolved', message: 'already resolved' };
  return { ok: true, to: from };
}

/** PagerDuty-style default mapping from an alert's severity to an incident priority. */
export function priorityForSeverity(severity: Severity): Priority {
  switch (severity) {
    case 'critical':
      return 'P1';
    case 'error':
      return 'P2';
    case 'warning':
      return 'P3';
    case 'info':
      return 'P4';
  }
}

/** True when `a` is more urgent than `b` (P1 is the highest). */
export function higherPriority(a: Priority, b: Priority): boolean {
  return a < b;
}

/** Whether an incident gets a draft post-incident review when it resolves, by its service's setting. */
export function needsReview(incident: { major: boolean; priority: Priority }, setting: 'off' | 'major' | 'major-and-p1-p2' = 'major'): boolean {
  if (setting === 'off') return false;
  if (incident.major) return true;
  return setting === 'major-and-p1-p2' && (incident.priority === 'P1' || incident.priority === 'P2');
}
