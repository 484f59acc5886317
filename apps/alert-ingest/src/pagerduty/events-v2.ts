import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { NormalizedEvent } from '../alerts/normalized.js';

/*
 * PagerDuty Events API v2, as PagerDuty defines it: field names, limits and error format. Pure
 * functions: parse, validate, normalise.
 */

const PayloadSchema = z.object({
  summary: z.string().min(1, "'payload.summary' is required").max(1024, "'payload.summary' is longer than 1024 characters"),
  source: z.string().min(1, "'payload.source' is required").max(255),
  severity: z.enum(['critical', 'error', 'warning', 'info'], { message: "'payload.severity' must be one of critical, error, warning, info" }),
  timestamp: z.iso.datetime({ offset: true, message: "'payload.timestamp' must be an ISO 8601 date-time" }).optional(),
  component: z.string().max(255).optional(),
  group: z.string().max(255).optional(),
  class: z.string().max(255).optional(),
  custom_details: z.unknown().optional(),
});

export const EventV2Schema = z.object({
  routing_key: z.string({ message: "'routing_key' is required" }).length(32, "'routing_key' must be 32 characters"),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve'], { message: "'event_action' must be trigger, acknowledge or resolve" }),
  dedup_key: z.string().min(1).max(255, "'dedup_key' is longer than 255 characters").optional(),
  payload: PayloadSchema.optional(),
  images: z.array(z.object({ src: z.string(), href: z.string().optional(), alt: z.string().optional() })).max(50).optional(),
  links: z.array(z.object({ href: z.string(), text: z.string().optional() })).max(50).optional(),
  client: z.string().max(255).optional(),
  client_url: z.string().max(2048).optional(),
});
export type EventV2 = z.output<typeof EventV2Schema>;

export type ParseResult = { ok: true; event: EventV2 } | { ok: false; errors: string[] };

export function parseEventV2(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, errors: ['Event must be a JSON object'] };
  const parsed = EventV2Schema.safeParse(body);
  const errors = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  if (parsed.success) {
    const e = parsed.data;
    if (e.event_action === 'trigger' && !e.payload) errors.push("'payload' is required for trigger events");
    if (e.event_action !== 'trigger' && !e.dedup_key) errors.push(`'dedup_key' is required for ${e.event_action} events`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, event: (parsed as { data: EventV2 }).data };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.');
  if (issue.message.startsWith("'")) return issue.message;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `'${field}' is required`;
  return `'${field}' ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
}

/** A trigger without a dedup key gets a fresh one (PagerDuty returns it so the sender can resolve later). */
export function dedupKeyFor(event: EventV2): string {
  return event.dedup_key ?? randomUUID().replace(/-/g, '');
}

export function normalizeEventV2(event: EventV2, dedupKey: string): NormalizedEvent {
  const p = event.payload;
  const details =
    p?.custom_details === undefined ? {} : typeof p.custom_details === 'object' && p.custom_details !== null && !Array.isArray(p.custom_details) ? (p.custom_details as Record<string, unknown>) : { details: p.custom_details };
  return {
    action: event.event_action,
    dedupKey,
    summary: p?.summary ?? '',
    severity: p?.severity ?? 'info',
    source: p?.source ?? null,
    component: p?.component ?? null,
    group: p?.group ?? null,
    class: p?.class ?? null,
    details: { ...details, ...(event.client ? { client: event.client, client_url: event.client_url } : {}), ...(p?.timestamp ? { timestamp: p.timestamp } : {}) },
    links: event.links ?? [],
    labels: {},
  };
}

/** A stable digest of a request body, for idempotent retries. */
export function bodyDigest(raw: Buffer | string): string {
  return createHash('sha256').update(raw).digest('hex');
}
