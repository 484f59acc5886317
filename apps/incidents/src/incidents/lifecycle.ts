/*
 * The incident state machine, as plain functions: triggered → acknowledged → resolved.
 * A resolved incident stays resolved; new alerts open a new incident.
 */
export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export type Severity = 'critical' | 'error' | 'warning' | 'info';
export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export type Transition =
  | { ok: true; to: IncidentStatus }
  | { ok: false; reason: 'already' | 'resolved'; message: string };

export function acknowledge(from: IncidentStatus): Transition {
  if (from === 'triggered') return { ok: true, to: 'acknowledged' };
  if (from === 'acknowledged') return { ok: false, reason: 'already', message: 'already acknowledged' };
  return { ok: false, reason: 'resolved', message: 'already resolved' };
}

export function resolve(from: IncidentStatus): Transition {
  if (from === 'resolved') return { ok: false, reason: 'already', message: 'already resolved' };
  return { ok: true, to: 'resolved' };
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
