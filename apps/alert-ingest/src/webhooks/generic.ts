import { createHash } from 'node:crypto';
import { clampSource, clampSummary, LIMITS, severityFromWord, type AlertAction, type NormalizedEvent } from '../alerts/normalized.js';
import type { IntegrationConfig } from '../integrations/integration-config.js';

/*
 * The generic JSON webhook: the integration's config says where in the payload the dedup key,
 * action, severity and summary are. A body may be one object or a list of them.
 */

export type WebhookConfig = IntegrationConfig<'webhook'>;

const DEFAULT_WORDS: Record<AlertAction, string[]> = {
  trigger: ['trigger', 'triggered', 'firing', 'fire', 'alert', 'alerting', 'problem', 'open', 'down', 'critical', 'error', 'warning'],
  acknowledge: ['acknowledge', 'acknowledged', 'ack'],
  resolve: ['resolve', 'resolved', 'ok', 'recovery', 'recovered', 'close', 'closed', 'up', 'normal'],
};

/** A value at a path like "alert.id", "$.items[0].name". */
export function valueAt(root: unknown, path: string): unknown {
  const parts = path.replace(/^\$\./, '').match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = root;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (p.startsWith('[')) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(p.slice(1, -1))];
    } else {
      if (Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
  }
  return cur;
}

/** Text or a number (ids often are); anything else counts as missing. */
function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function normalizeGeneric(body: unknown, config: WebhookConfig): { ok: true; events: NormalizedEvent[] } | { ok: false; errors: string[] } {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) return { ok: false, errors: ['The list of events is empty: nothing to do'] };
  if (items.length > 1000) return { ok: false, errors: ['At most 1000 events per request'] };
  const events: NormalizedEvent[] = [];
  const errors: string[] = [];
  items.forEach((item, n) => {
    const at = items.length > 1 ? `event ${n}: ` : '';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`${at}must be a JSON object`);
      return;
    }
    const r = normalizeOne(item as Record<string, unknown>, config);
    if (r.ok) events.push(r.event);
    else errors.push(...r.errors.map((e) => at + e));
  });
  return errors.length ? { ok: false, errors } : { ok: true, events };
}

function normalizeOne(item: Record<string, unknown>, c: WebhookConfig): { ok: true; event: NormalizedEvent } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const summaryPath = c.summaryPath ?? 'summary';
  const summary = scalar(valueAt(item, summaryPath));
  if (summary === undefined) errors.push(`field "${summaryPath}" (the summary, config.summaryPath) is missing, empty or not text`);

  let action: AlertAction = 'trigger';
  if (c.actionPath) {
    const raw = scalar(valueAt(item, c.actionPath));
    const words = {
      trigger: c.triggerValues ?? DEFAULT_WORDS.trigger,
      acknowledge: c.acknowledgeValues ?? DEFAULT_WORDS.acknowledge,
      resolve: c.resolveValues ?? DEFAULT_WORDS.resolve,
    };
    const found =
      raw === undefined ? undefined : (Object.keys(words) as AlertAction[]).find((a) => words[a].some((w) => w.toLowerCase() === raw.trim().toLowerCase()));
    if (!found) {
      errors.push(
        raw === undefined
          ? `field "${c.actionPath}" (the action, config.actionPath) is missing`
          : `field "${c.actionPath}" is "${raw.slice(0, 50)}", which is none of the trigger (${words.trigger.join(', ')}), acknowledge (${words.acknowledge.join(', ')}) or resolve (${words.resolve.join(', ')}) values`,
      );
    } else action = found;
  }

  let dedupKey: string | undefined;
  if (c.dedupKeyPath) {
    dedupKey = scalar(valueAt(item, c.dedupKeyPath));
    if (dedupKey === undefined || dedupKey === '') errors.push(`field "${c.dedupKeyPath}" (the dedup key, config.dedupKeyPath) is missing`);
    else if (dedupKey.length > LIMITS.dedupKey) dedupKey = hashed([dedupKey]);
  } else {
    const fields = c.dedupFields ?? [summaryPath, ...(c.sourcePath ? [c.sourcePath] : [])];
    dedupKey = hashed(fields.map((p) => valueAt(item, p) ?? null));
  }
  if (errors.length || dedupKey === undefined) return { ok: false, errors };

  const labels: Record<string, string> = {};
  for (const [name, p] of Object.entries(c.labelPaths ?? {})) {
    const v = scalar(valueAt(item, p));
    if (v !== undefined) labels[name] = v.slice(0, 1000);
  }
  return {
    ok: true,
    event: {
      action,
      dedupKey,
      summary: clampSummary(summary),
      severity: severityFromWord(c.severityPath ? valueAt(item, c.severityPath) : undefined, c.defaultSeverity ?? 'error'),
      source: clampSource(c.sourcePath ? scalar(valueAt(item, c.sourcePath)) : null),
      details: item,
      links: [],
      labels,
    },
  };
}

/** A stable key from values: the same values give the same key, whatever the sender's formatting. */
function hashed(values: unknown[]): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(values)).digest('hex')}`;
}
