import { z } from 'zod';
import { clampSummary, hasVisibleText, type NormalizedEvent } from '../alerts/normalized.js';
import type { ParseResult } from './events-v2.js';

/*
 * PagerDuty's older Events API v1 (generic/2010-04-15/create_event.json), which Alertmanager still
 * speaks when a pagerduty_config has a service_key instead of a routing_key.
 */

export const EventV1Schema = z.strictObject({
  service_key: z.string({ message: "'service_key' is required" }).length(32, "'service_key' must be 32 characters"),
  event_type: z.enum(['trigger', 'acknowledge', 'resolve'], { message: "'event_type' must be trigger, acknowledge or resolve" }),
  incident_key: z.string().min(1).max(255, "'incident_key' is longer than 255 characters").optional(),
  description: z.string().max(1024, "'description' is longer than 1024 characters").optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  client: z.string().max(255).optional(),
  client_url: z.string().max(2048).optional(),
  contexts: z
    .array(z.looseObject({ type: z.string(), href: z.string().optional(), text: z.string().optional(), src: z.string().optional() }))
    .max(50)
    .optional(),
  // Alertmanager's v1 messages carry its v2 fields empty ("event_action": "", "payload": null).
  event_action: z.literal('').optional(),
  payload: z.null().optional(),
  images: z.array(z.unknown()).max(50).nullable().optional(),
  links: z
    .array(z.looseObject({ href: z.string(), text: z.string().optional() }))
    .max(50)
    .nullable()
    .optional(),
});
export type EventV1 = z.output<typeof EventV1Schema>;

/** A v1 body is told apart from a v2 one by its service_key. */
export function isEventV1(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'service_key' in body && !('routing_key' in body);
}

export function parseEventV1(body: unknown): ParseResult<EventV1> {
  const parsed = EventV1Schema.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `Event has unknown fields ${i.keys.map((k) => `'${k}'`).join(', ')}`
          : i.message.startsWith("'")
            ? i.message
            : `'${i.path.join('.')}' ${i.message}`,
      ),
    };
  }
  const e = parsed.data;
  if (e.event_type === 'trigger' && !(e.description && hasVisibleText(e.description)))
    return { ok: false, errors: ["'description' is required for trigger events"] };
  if (e.event_type !== 'trigger' && !e.incident_key) return { ok: false, errors: [`'incident_key' is required for ${e.event_type} events`] };
  return { ok: true, event: e };
}

export function normalizeEventV1(e: EventV1, dedupKey: string): NormalizedEvent {
  const links = [
    ...(e.contexts ?? []).filter((c) => c.type === 'link' && c.href).map((c) => ({ href: c.href!, ...(c.text ? { text: c.text } : {}) })),
    ...(e.links ?? []).map((l) => ({ href: l.href, ...(l.text ? { text: l.text } : {}) })),
  ];
  return {
    action: e.event_type,
    dedupKey,
    summary: clampSummary(e.description ?? dedupKey),
    severity: 'critical',
    source: null,
    details: { ...(e.details ?? {}), ...(e.client ? { client: e.client, client_url: e.client_url } : {}) },
    links,
    labels: {},
  };
}
