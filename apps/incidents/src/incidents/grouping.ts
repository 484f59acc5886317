/*
 * Alert grouping, as plain functions: which group an alert belongs to, and whether it joins the
 * group's open incident or opens a new one. The service layer applies the decision while holding
 * the group's row lock, so two alerts of one group never race each other into two incidents.
 */
import type { z } from 'zod';
import type { Grouping as GroupingSchema } from '#libs/contracts';

export type Grouping = z.output<typeof GroupingSchema>;

/** The alert fields content-based grouping can match on. */
export interface GroupableAlert {
  summary: string;
  severity: string;
  source: string | null;
  component?: string | null;
  group?: string | null;
  class?: string | null;
  dedupKey: string;
  labels: Record<string, string>;
  details: Record<string, unknown>;
}

/** Content-based groups live at most this long after their first alert, however often the window rolls. */
export const CONTENT_GROUP_MAX_MS = 24 * 3600_000;

const TOP_LEVEL: Record<string, (a: GroupableAlert) => unknown> = {
  summary: (a) => a.summary,
  severity: (a) => a.severity,
  source: (a) => a.source,
  component: (a) => a.component,
  group: (a) => a.group,
  class: (a) => a.class,
  dedup_key: (a) => a.dedupKey,
};

/**
 * The value of one grouping field: `summary`, `severity`, `source`, `component`, `group`, `class`,
 * `dedup_key`; `labels.<name>` or `details.<name>` (dotted paths into details); a bare name that
 * is none of the above is looked up in the labels, then in the details.
 */
export function fieldValue(alert: GroupableAlert, field: string): string | undefined {
  const top = TOP_LEVEL[field];
  if (top) return stringify(top(alert));
  if (field.startsWith('labels.')) return stringify(alert.labels[field.slice('labels.'.length)]);
  if (field.startsWith('details.')) return stringify(path(alert.details, field.slice('details.'.length)));
  return stringify(alert.labels[field]) ?? stringify(path(alert.details, field));
}

function path(obj: unknown, dotted: string): unknown {
  let cur = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function stringify(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The group an alert belongs to on its service, or null when it is not grouped at all (grouping
 * off, or a content-based alert that lacks one of the chosen fields: it opens its own incident
 * rather than being lumped with unrelated alerts).
 */
export function groupKeyFor(grouping: Grouping, alert: GroupableAlert): string | null {
  if (grouping.mode === 'none') return null;
  if (grouping.mode === 'time') return 'time';
  const values: string[] = [];
  for (const field of grouping.fields) {
    const v = fieldValue(alert, field);
    if (v === undefined) return null;
    values.push(v);
  }
  // JSON keeps ["a,b"] and ["a","b"] apart.
  return `content:${JSON.stringify(grouping.fields.map((f, i) => [f, values[i]]))}`;
}

/** The state of a group: its current incident and the window during which alerts join it. */
export interface GroupState {
  incidentId: string;
  incidentOpen: boolean;
  windowEndsAt: Date;
  hardEndsAt: Date;
}

export type GroupingDecision = { action: 'join'; incidentId: string; windowEndsAt: Date } | { action: 'open'; windowEndsAt: Date; hardEndsAt: Date };

/**
 * Joins the group's incident when it is still open and the alert falls inside the window;
 * otherwise opens a new incident that starts a new window.
 * - time: the window is fixed, N minutes from the incident's first alert;
 * - content: the window rolls forward N minutes from each grouped alert, up to 24 hours after the first.
 */
export function decideGrouping(grouping: Exclude<Grouping, { mode: 'none' }>, state: GroupState | undefined, at: Date): GroupingDecision {
  const windowMs = grouping.windowMinutes * 60_000;
  const t = at.getTime();
  if (state && state.incidentOpen && t < state.windowEndsAt.getTime() && t < state.hardEndsAt.getTime()) {
    const windowEndsAt = grouping.mode === 'content' ? new Date(Math.min(t + windowMs, state.hardEndsAt.getTime())) : state.windowEndsAt;
    return { action: 'join', incidentId: state.incidentId, windowEndsAt };
  }
  if (grouping.mode === 'time') return { action: 'open', windowEndsAt: new Date(t + windowMs), hardEndsAt: new Date(t + windowMs) };
  const hardEndsAt = new Date(t + CONTENT_GROUP_MAX_MS);
  return { action: 'open', windowEndsAt: new Date(Math.min(t + windowMs, hardEndsAt.getTime())), hardEndsAt };
}
