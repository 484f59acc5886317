import { z } from 'zod';
import { clampSource, clampSummary, severityFromWord, type NormalizedEvent, type Severity } from '../alerts/normalized.js';

/*
 * Prometheus Alertmanager's webhook (version 4) and Grafana's unified alerting webhook (version 1,
 * the same shape plus a few fields). Senders newer than this code add fields: unknown ones are
 * accepted and kept in the details, never refused.
 */

const stringMap = z.record(z.string(), z.string({ message: 'must be a string' }));
const time = z.string().max(100).optional();

const WebhookAlert = z.looseObject({
  status: z.enum(['firing', 'resolved'], { message: 'must be "firing" or "resolved"' }),
  labels: stringMap,
  annotations: stringMap.optional(),
  startsAt: time,
  endsAt: time,
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
  // Grafana
  silenceURL: z.string().max(4096).optional(),
  dashboardURL: z.string().max(4096).optional(),
  panelURL: z.string().max(4096).optional(),
  imageURL: z.string().max(4096).optional(),
  values: z.record(z.string(), z.unknown()).nullable().optional(),
  valueString: z.string().max(10000).optional(),
});

export const WebhookSchema = z.looseObject({
  version: z.string().max(20).optional(),
  groupKey: z.string().max(10000).optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().max(1000).optional(),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().max(4096).optional(),
  alerts: z
    .array(WebhookAlert, { message: "'alerts' must be a list of alerts" })
    .min(1, "'alerts' is empty: nothing to do")
    .max(1000, "'alerts' holds more than 1000 alerts"),
  // Grafana
  orgId: z.number().optional(),
  state: z.string().max(100).optional(),
  title: z.string().max(10000).optional(),
  message: z.string().max(100000).optional(),
});
export type Webhook = z.output<typeof WebhookSchema>;
type WebhookAlert = z.output<typeof WebhookAlert>;

export type WebhookFlavour = 'alertmanager' | 'grafana';

export function parseWebhook(body: unknown, flavour: WebhookFlavour): { ok: true; webhook: Webhook } | { ok: false; errors: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, errors: ['Request body must be a JSON object (the webhook message)'] };
  const parsed = WebhookSchema.safeParse(body);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.length ? `'${i.path.join('.')}'` : 'body'}: ${i.message}`) };
  const v = parsed.data.version;
  const supported = flavour === 'alertmanager' ? ['4'] : ['1'];
  if (v !== undefined && !supported.includes(v)) {
    return { ok: false, errors: [`'version' is "${v}"; this endpoint reads ${flavour} webhook version ${supported.join(' or ')}`] };
  }
  return { ok: true, webhook: parsed.data };
}

/** Alertmanager's fingerprint of a label set: FNV-1a 64 over the sorted labels, as 16 hex digits. */
export function labelsFingerprint(labels: Record<string, string>): string {
  const mask = (1n << 64n) - 1n;
  let h = 14695981039346656037n;
  const add = (bytes: Uint8Array): void => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * 1099511628211n) & mask;
  };
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(new Uint8Array([255]));
    add(enc.encode(labels[name]));
    add(new Uint8Array([255]));
  }
  return h.toString(16).padStart(16, '0');
}

/** One event per alert in the message, each deduplicated by its fingerprint. */
export function normalizeWebhook(w: Webhook, flavour: WebhookFlavour, defaultSeverity: Severity): NormalizedEvent[] {
  return w.alerts.map((a) => normalizeAlert(w, a, flavour, defaultSeverity));
}

function normalizeAlert(w: Webhook, a: WebhookAlert, flavour: WebhookFlavour, defaultSeverity: Severity): NormalizedEvent {
  const ann = { ...(w.commonAnnotations ?? {}), ...(a.annotations ?? {}) };
  const labels: Record<string, string> = { ...a.labels };
  if (w.groupKey) labels[`${flavour}_group_key`] = w.groupKey;
  const name = a.labels.alertname;
  const where = a.labels.instance ?? a.labels.job;
  const summary = ann.summary ?? ann.description ?? ann.message ?? (name ? `${name}${where ? ` on ${where}` : ''}` : `${flavour} alert`);
  const links: { href: string; text: string }[] = [];
  const link = (href: string | undefined, text: string): void => {
    if (href) links.push({ href, text });
  };
  link(a.generatorURL, flavour === 'grafana' ? 'Alert rule' : 'Source');
  link(a.dashboardURL, 'Dashboard');
  link(a.panelURL, 'Panel');
  link(a.silenceURL, 'Silence');
  const { status: _s, labels: _l, annotations: _a, fingerprint: _f, ...rest } = a;
  return {
    action: a.status === 'firing' ? 'trigger' : 'resolve',
    dedupKey: a.fingerprint ?? labelsFingerprint(a.labels),
    summary: clampSummary(summary),
    severity: severityFromWord(a.labels.severity ?? a.labels.priority, defaultSeverity),
    source: clampSource(where ?? w.receiver ?? null),
    component: a.labels.service ?? a.labels.job ?? null,
    group: a.labels.cluster ?? a.labels.namespace ?? null,
    class: name ?? null,
    details: { annotations: ann, labels: a.labels, ...rest, receiver: w.receiver, groupKey: w.groupKey, externalURL: w.externalURL },
    links,
    labels,
    // An HA peer or a retry may re-send an episode after its resolution: startsAt names the episode.
    occurrence: episode(a.startsAt),
  };
}

/**
 * The episode a startsAt names, as UTC ISO text so that episodes compare in time order as text
 * (a later startsAt is a later episode of the same fingerprint); Go's zero time means none.
 */
export function episode(startsAt: string | undefined): string | null {
  if (!startsAt || startsAt.startsWith('0001-')) return null;
  const t = Date.parse(startsAt);
  return Number.isNaN(t) ? startsAt : new Date(t).toISOString();
}
