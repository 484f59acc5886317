import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { clampSource, hasVisibleText, type NormalizedEvent } from '../alerts/normalized.js';

/*
 * PagerDuty Events API v2, as PagerDuty defines it: field names, limits and error format. Pure
 * functions: parse, validate, normalise.
 */

/** PagerDuty accepts any ISO 8601 form, "+0000" offsets included. */
export function parseTimestamp(s: string): Date | undefined {
  const ms = Date.parse(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
const timestamp = z
  .string()
  .max(100)
  .refine((s) => parseTimestamp(s) !== undefined, "'payload.timestamp' must be an ISO 8601 date-time");

const PayloadSchema = z.strictObject({
  summary: z
    .string({ message: "'payload.summary' must be a string" })
    .min(1, "'payload.summary' is required")
    .max(1024, "'payload.summary' is longer than 1024 characters")
    .refine(hasVisibleText, "'payload.summary' has no visible text"),
  source: z
    .string({ message: "'payload.source' must be a string" })
    .min(1, "'payload.source' is required")
    .max(255, "'payload.source' is longer than 255 characters"),
  severity: z.enum(['critical', 'error', 'warning', 'info'], { message: "'payload.severity' must be one of critical, error, warning, info" }),
  timestamp: timestamp.optional(),
  component: z.string().max(255).optional(),
  group: z.string().max(255).optional(),
  class: z.string().max(255).optional(),
  custom_details: z.unknown().optional(),
});

const Link = z.strictObject({ href: z.string().min(1).max(2048), text: z.string().max(1024).optional() });
const Image = z.strictObject({ src: z.string().min(1).max(2048), href: z.string().max(2048).optional(), alt: z.string().max(1024).optional() });

export const EventV2Schema = z.strictObject({
  routing_key: z.string({ message: "'routing_key' is required" }).length(32, "'routing_key' must be 32 characters"),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve'], { message: "'event_action' must be trigger, acknowledge or resolve" }),
  dedup_key: z.string().min(1, "'dedup_key' must not be empty").max(255, "'dedup_key' is longer than 255 characters").optional(),
  payload: PayloadSchema.optional(),
  images: z.array(Image).max(50).optional(),
  links: z.array(Link).max(50).optional(),
  client: z.string().max(255).optional(),
  client_url: z.string().max(2048).optional(),
});
export type EventV2 = z.output<typeof EventV2Schema>;

export const ChangeEventSchema = z.strictObject({
  routing_key: z.string({ message: "'routing_key' is required" }).length(32, "'routing_key' must be 32 characters"),
  payload: z.strictObject(
    {
      summary: z
        .string({ message: "'payload.summary' is required" })
        .min(1, "'payload.summary' is required")
        .max(1024, "'payload.summary' is longer than 1024 characters")
        .refine(hasVisibleText, "'payload.summary' has no visible text"),
      source: z.string().max(255).optional(),
      timestamp: timestamp.optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    },
    { message: "'payload' is required" },
  ),
  links: z.array(Link).max(50).optional(),
  images: z.array(Image).max(50).optional(),
});
export type ChangeEvent = z.output<typeof ChangeEventSchema>;

export type ParseResult<T> = { ok: true; event: T } | { ok: false; errors: string[] };

export function parseEventV2(body: unknown): ParseResult<EventV2> {
  const result = parseWith(EventV2Schema, body);
  if (!result.ok) return result;
  const e = result.event;
  const errors: string[] = [];
  if (e.event_action === 'trigger' && !e.payload) errors.push("'payload' is required for trigger events");
  if (e.event_action !== 'trigger' && !e.dedup_key) errors.push(`'dedup_key' is required for ${e.event_action} events`);
  return errors.length ? { ok: false, errors } : result;
}

export function parseChangeEvent(body: unknown): ParseResult<ChangeEvent> {
  return parseWith(ChangeEventSchema, body);
}

function parseWith<S extends z.ZodType>(schema: S, body: unknown): ParseResult<z.output<S>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, errors: ['Event must be a JSON object'] };
  const parsed = schema.safeParse(body);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, errors: parsed.error.issues.map(describeIssue) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.');
  if (issue.code === 'unrecognized_keys')
    return `${field ? `'${field}' has` : 'Event has'} unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
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
    p?.custom_details === undefined
      ? {}
      : typeof p.custom_details === 'object' && p.custom_details !== null && !Array.isArray(p.custom_details)
        ? (p.custom_details as Record<string, unknown>)
        : { details: p.custom_details };
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries({ source: p?.source, component: p?.component, group: p?.group, class: p?.class })) if (v) labels[k] = v;
  return {
    action: event.event_action,
    dedupKey,
    summary: p?.summary ?? dedupKey,
    severity: p?.severity ?? 'info',
    source: clampSource(p?.source),
    component: p?.component ?? null,
    group: p?.group ?? null,
    class: p?.class ?? null,
    details: {
      ...details,
      ...(event.client ? { client: event.client, client_url: event.client_url } : {}),
      ...(p?.timestamp ? { timestamp: p.timestamp } : {}),
      ...(event.images?.length ? { images: event.images } : {}),
    },
    links: event.links ?? [],
    labels,
  };
}
