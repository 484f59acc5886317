import { InvalidInputError } from '#libs/platform';
import { clampSummary, type NormalizedEvent } from './normalized.js';

/** Deeper custom details than this are refused: nobody reads them, and PostgreSQL would choke. */
export const MAX_DEPTH = 32;
/** Details larger than this travel in events truncated (the alert row keeps them whole). */
export const MAX_EVENT_DETAILS_CHARS = 32 * 1024;

/**
 * Makes a sender's text storable: PostgreSQL cannot store NUL characters, and jsonb refuses lone
 * UTF-16 surrogates. NULs are dropped, lone surrogates become U+FFFD; nesting deeper than
 * MAX_DEPTH is refused with a 400.
 */
export function sanitizeEvent(e: NormalizedEvent): NormalizedEvent {
  const dedupKey = text(e.dedupKey);
  if (!dedupKey) throw new InvalidInputError('The dedup key is empty once NUL characters are removed');
  return {
    ...e,
    dedupKey,
    summary: clampSummary(text(e.summary)),
    source: e.source === null ? null : text(e.source),
    component: e.component ? text(e.component) : e.component,
    group: e.group ? text(e.group) : e.group,
    class: e.class ? text(e.class) : e.class,
    details: clean(e.details, 0, 'details') as Record<string, unknown>,
    links: (clean(e.links, 0, 'links') as NormalizedEvent['links']).slice(0, MAX_LINKS),
    labels: boundedLabels(clean(e.labels, 0, 'labels') as Record<string, string>),
    occurrence: e.occurrence ? text(e.occurrence) : e.occurrence,
    actor: e.actor ? text(e.actor) || null : e.actor,
    note: e.note ? text(e.note) || null : e.note,
  };
}

// Node 20 has String.prototype.isWellFormed/toWellFormed; the ES2023 typings do not.
type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

export function text(s: string): string {
  const t = (s.includes('\u0000') ? s.replaceAll('\u0000', '') : s) as WellFormed;
  return t.isWellFormed() ? t : t.toWellFormed();
}

/** Labels are for grouping, and travel in every alert.triggered: a bounded set of short strings. */
export const MAX_LABELS = 64;
const MAX_LABEL_CHARS = 1000;
const MAX_LINKS = 20;

function boundedLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels).slice(0, MAX_LABELS)) out[k.slice(0, 200)] = String(v).slice(0, MAX_LABEL_CHARS);
  return out;
}

/** A sender's JSON made storable (see sanitizeEvent). */
export function cleanJson<T>(v: T, where: string): T {
  return clean(v, 0, where) as T;
}

function clean(v: unknown, depth: number, where: string): unknown {
  if (typeof v === 'string') return text(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) throw new InvalidInputError(`The event's ${where} are nested more than ${MAX_DEPTH} levels deep; flatten them`);
  if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1, where));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[text(k)] = clean(x, depth + 1, where);
  return out;
}

/** Details as they travel in alert.triggered: whole when small, else a marked preview. */
export function eventDetails(details: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(details);
  if (json.length <= MAX_EVENT_DETAILS_CHARS) return details;
  return { truncated: true, note: `Details were ${json.length} characters; the alert keeps them whole (GET /api/v1/alerts/:id)`, preview: json.slice(0, 4096) };
}
