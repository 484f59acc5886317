import type { ResponderActionName } from './responder-actions.service.js';

export interface IncidentState {
  id: string;
  number: number;
  title: string;
  status: 'triggered' | 'acknowledged' | 'resolved' | 'snoozed';
  changed_by_name: string | null;
}

export type ActionOutcome = 'done' | 'already-acknowledged' | 'already-resolved';

export interface ActionResult {
  incident: IncidentState;
  outcome: ActionOutcome;
}

/** Whether an action still means something for an incident in this state. */
export function outcomeFor(action: ResponderActionName, status: IncidentState['status']): ActionOutcome {
  if (status === 'resolved') return 'already-resolved';
  if (action === 'acknowledge' && status === 'acknowledged') return 'already-acknowledged';
  return 'done';
}

const DONE: Record<ResponderActionName, string> = { acknowledge: 'Acknowledged', resolve: 'Resolved', escalate: 'Escalated' };

function by(name: string | null): string {
  return name ? ` by ${name}` : '';
}

/** The confirmation (or the reason nothing happened) a responder reads or hears back. */
export function describeResults(action: ResponderActionName, results: ActionResult[]): string {
  const done = results.filter((r) => r.outcome === 'done');
  const parts: string[] = [];
  if (done.length === 1) {
    const i = done[0]!.incident;
    parts.push(
      `${DONE[action]} #${i.number}${i.title ? ` (${i.title.length > 60 ? `${i.title.slice(0, 59)}…` : i.title})` : ''}${action === 'escalate' ? ': the next escalation step is being paged' : ''}.`,
    );
  } else if (done.length > 1) {
    parts.push(`${DONE[action]} ${done.length} incidents: ${done.map((r) => `#${r.incident.number}`).join(', ')}.`);
  }
  for (const r of results) {
    if (r.outcome === 'already-acknowledged') parts.push(`#${r.incident.number} was already acknowledged${by(r.incident.changed_by_name)}.`);
    if (r.outcome === 'already-resolved') parts.push(`#${r.incident.number} was already resolved${by(r.incident.changed_by_name)}.`);
  }
  return parts.join(' ');
}
