import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AlertView } from '../alerts/alerts.queries.js';
import { clampSource, hasVisibleText, type NormalizedEvent, type Severity } from '../alerts/normalized.js';

/*
 * Opsgenie Alert API v2, as Opsgenie defines it: fields, limits, and the shapes of its answers.
 * Pure functions: parse, validate, normalise.
 */

const responder = z.looseObject({
  type: z.enum(['team', 'user', 'escalation', 'schedule']),
  id: z.string().optional(),
  name: z.string().optional(),
  username: z.string().optional(),
});

export const CreateAlertSchema = z.strictObject({
  message: z
    .string({ message: 'message is required' })
    .trim()
    .min(1, 'message can not be empty')
    .max(130, 'message is longer than 130 characters')
    .refine(hasVisibleText, 'message can not be empty'),
  alias: z.string().min(1).max(512, 'alias is longer than 512 characters').optional(),
  description: z.string().max(15000, 'description is longer than 15000 characters').optional(),
  responders: z.array(responder).max(50).optional(),
  visibleTo: z.array(responder).max(50).optional(),
  actions: z.array(z.string().max(50)).max(10, 'at most 10 actions').optional(),
  tags: z.array(z.string().max(50, 'a tag is longer than 50 characters')).max(20, 'at most 20 tags').optional(),
  details: z.record(z.string().max(1000), z.string().max(8000)).optional(),
  entity: z.string().max(512).optional(),
  source: z.string().max(100).optional(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4', 'P5'], { message: 'priority must be one of P1, P2, P3, P4, P5' }).optional(),
  user: z.string().max(100).optional(),
  note: z.string().max(25000).optional(),
});
export type CreateAlert = z.output<typeof CreateAlertSchema>;

/** Body of close and acknowledge: all optional. */
export const ActionSchema = z.strictObject({
  user: z.string().max(100).optional(),
  source: z.string().max(100).optional(),
  note: z.string().max(25000).optional(),
});

export const IdentifierType = z.enum(['id', 'alias', 'tiny'], { message: 'identifierType must be id, alias or tiny' }).default('id');

const PRIORITY_SEVERITY: Record<string, Severity> = { P1: 'critical', P2: 'error', P3: 'warning', P4: 'info', P5: 'info' };

export function parseOpsgenie<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { ok: true; value: z.output<S> } | { ok: false; message: string; errors: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'Request body must be a JSON object', errors: [] };
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.map((i) =>
    i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : `${i.path.join('.') || 'body'}: ${i.message}`,
  );
  return { ok: false, message: `Request has invalid fields: ${errors.join('; ')}`, errors };
}

/** Without an alias Opsgenie gives each alert a unique one: every such create is a new alert. */
export function normalizeCreate(a: CreateAlert): NormalizedEvent {
  const alias = a.alias ?? randomUUID();
  const labels: Record<string, string> = { ...(a.details ?? {}) };
  if (a.entity) labels.entity = a.entity;
  labels.priority = a.priority ?? 'P3';
  if (a.tags?.length) labels.tags = a.tags.join(',');
  return {
    action: 'trigger',
    dedupKey: alias,
    summary: a.message,
    severity: PRIORITY_SEVERITY[a.priority ?? 'P3']!,
    source: clampSource(a.source),
    component: a.entity ?? null,
    details: {
      ...(a.description ? { description: a.description } : {}),
      ...(a.details ?? {}),
      ...(a.tags?.length ? { tags: a.tags } : {}),
      ...(a.note ? { note: a.note } : {}),
      ...(a.user ? { user: a.user } : {}),
      ...(a.responders?.length ? { responders: a.responders } : {}),
      priority: a.priority ?? 'P3',
    },
    links: [],
    labels,
  };
}

/** A close or acknowledge of an alert already identified (its dedup key known). */
export function actionEvent(
  action: 'acknowledge' | 'resolve',
  target: { dedupKey: string; alertId?: string },
  by: { user?: string; note?: string } = {},
): NormalizedEvent {
  return {
    action,
    dedupKey: target.dedupKey,
    alertId: target.alertId,
    actor: by.user?.trim() || null,
    note: by.note?.trim() || null,
    summary: target.dedupKey,
    severity: 'info',
    source: null,
    details: {},
    links: [],
    labels: {},
  };
}

/** Opsgenie's envelope around every answer. */
export function envelope(startedAt: number, requestId: string, body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, took: Math.round(performance.now() - startedAt) / 1000, requestId };
}

/** An alert as Opsgenie's "get alert" shows it. */
export function opsgenieAlert(a: AlertView): Record<string, unknown> {
  const d = a.details;
  return {
    id: a.id,
    alias: a.dedupKey,
    message: a.summary,
    status: a.status === 'resolved' ? 'closed' : 'open',
    acknowledged: a.status === 'acknowledged' || (a.status === 'resolved' && a.acknowledgedAt !== null),
    isSeen: a.status !== 'triggered',
    snoozed: false,
    count: a.count,
    lastOccurredAt: a.lastSeenAt,
    createdAt: a.firstSeenAt,
    updatedAt: a.resolvedAt ?? a.acknowledgedAt ?? a.lastSeenAt,
    source: a.source ?? '',
    entity: a.component ?? '',
    priority: typeof d.priority === 'string' ? d.priority : 'P3',
    tags: Array.isArray(d.tags) ? d.tags : [],
    description: typeof d.description === 'string' ? d.description : '',
    details: a.labels,
    integration: { id: a.integrationId, type: a.integrationType },
  };
}
