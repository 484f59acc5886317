import fs from 'node:fs';
import path from 'node:path';
import { queryDb, waitUntilQuiet } from '#libs/testing';
import type { ChaosStack } from './stack.js';
import type { MonitoredKey } from './traffic.js';

/** One finding: what kind, and the ids that show it. */
export interface Finding {
  what: string;
  ids: string[];
}

export interface Audit {
  counts: Record<string, number | string>;
  lost: Finding[];
  doubled: Finding[];
  /** Not lost or doubled, but wrong: state left open after every monitor resolved. */
  wrong: Finding[];
  /**
   * Steps that fired after the incident was acknowledged or resolved: oncall hears of it through
   * the incidents topic, so while incidents or the broker is down it escalates on for a while
   * (and notifier, which hears the same way, may page). Reported with how late and what was sent.
   */
  late: Finding[];
}

interface AlertRow {
  id: string;
  service_id: string;
  dedup_key: string;
  status: string;
  count: number;
  in_maintenance: boolean;
}
interface NotificationRow {
  id: string;
  kind: string;
  page_id: string;
  channel: string;
  status: string;
  provider_message_id: string | null;
  error: string | null;
  destination: string;
  overdue: boolean;
}

/**
 * Follows every accepted alert through the four databases to the messages the phone and the mail
 * server received, Jepsen-style: what was promised (a 2xx) against what happened.
 *
 * Lost: an accepted trigger with no alert (or fewer occurrences counted than triggers accepted);
 * an alert no incident holds; an incident oncall never fired a step for; a step's page that no
 * notification records; a notification neither sent (and received) nor recorded as failed.
 * Doubled: a provider message no notification records (a second send), an email received twice.
 */
export async function audit(stack: ChaosStack, keys: MonitoredKey[]): Promise<Audit> {
  const db = (service: string) => stack.world.databaseUrl(service);
  const alerts = await queryDb<AlertRow>(db('alert-ingest'), 'SELECT id, service_id, dedup_key, status, count, in_maintenance FROM alerts');
  const held = await queryDb<{ alert_id: string; incident_id: string | null }>(db('incidents'), 'SELECT alert_id, incident_id FROM incident_alerts');
  const incidents = await queryDb<{ id: string; number: number; status: string; acknowledged_at: Date | null; resolved_at: Date | null }>(
    db('incidents'),
    'SELECT id, number, status, acknowledged_at, resolved_at FROM incidents',
  );
  const reTriggered = await queryDb<{ incident_id: string; at: Date }>(
    db('incidents'),
    `SELECT incident_id, at FROM timeline WHERE kind IN ('incident.unacknowledged', 'incident.ack-timeout', 'incident.snooze-end')`,
  );
  const escalations = await queryDb<{ incident_id: string; state: string }>(db('oncall'), 'SELECT incident_id, state FROM escalations');
  const firings = await queryDb<{ incident_id: string; generation: number; loop: number; step: number; user_ids: string[]; fired_at: Date }>(
    db('oncall'),
    'SELECT incident_id, generation, loop, step, user_ids, fired_at FROM escalation_firings',
  );
  // notifier's copy of each incident: a page that arrives after its incident was acknowledged or resolved is dropped, by design.
  const notifierIncidents = await queryDb<{ id: string; status: string; changed_at: Date }>(db('notifier'), 'SELECT id, status, changed_at FROM incidents');
  const notifications = await queryDb<NotificationRow>(
    db('notifier'),
    `SELECT id, kind, page_id, channel, destination, status, provider_message_id, error,
            (status = 'sending' OR (status = 'queued' AND due_at <= now())) AS overdue
     FROM notifications`,
  );

  const lost: Finding[] = [];
  const doubled: Finding[] = [];
  const wrong: Finding[] = [];
  const add = (list: Finding[], what: string, ids: string[]) => ids.length && list.push({ what, ids });

  // 1. accepted → stored
  const occurrences = new Map<string, number>();
  for (const a of alerts) occurrences.set(`${a.service_id}/${a.dedup_key}`, (occurrences.get(`${a.service_id}/${a.dedup_key}`) ?? 0) + a.count);
  const triggered = keys.filter((k) => k.triggersAccepted > 0);
  const stored = (k: MonitoredKey) => occurrences.get(`${k.service.id}/${k.key}`);
  add(
    lost,
    'accepted triggers with no alert stored',
    triggered.filter((k) => stored(k) === undefined).map((k) => `${k.service.sender}:${k.key}`),
  );
  add(
    lost,
    'fewer occurrences stored than triggers accepted',
    triggered.filter((k) => (stored(k) ?? Infinity) < k.triggersAccepted).map((k) => `${k.service.sender}:${k.key} (${stored(k)} < ${k.triggersAccepted})`),
  );

  // 2. stored → incident
  const incidentOf = new Map(held.map((h) => [h.alert_id, h.incident_id]));
  add(
    lost,
    'alerts stored but held by no incident',
    alerts.filter((a) => !a.in_maintenance && !incidentOf.get(a.id)).map((a) => a.id),
  );

  // 3. incident → page requested → notification
  const fired = new Map<string, typeof firings>();
  for (const f of firings) fired.set(f.incident_id, [...(fired.get(f.incident_id) ?? []), f]);
  add(
    lost,
    'incidents with no escalation step fired',
    incidents.filter((i) => !fired.has(i.id)).map((i) => `#${i.number} ${i.id}`),
  );
  const pageIds = new Set(notifications.filter((n) => n.kind === 'page').map((n) => n.page_id));
  const requested = firings.flatMap((f) => f.user_ids.map((u) => ({ pageId: pageIdOf(f, u), firing: f })));
  // A page notifier did not record is stale when its incident was acknowledged or resolved by the
  // time it arrived: notifier's copy says so now, or notifier's log said so then (its copy may have
  // moved on since: a person's ack applied at once, then the monitor's earlier resolve).
  const closedAt = new Map(notifierIncidents.filter((i) => i.status !== 'triggered').map((i) => [i.id, i.changed_at.getTime()]));
  const droppedByLog = staleInLogs(stack.logDir);
  const notRecorded = requested.filter((r) => !pageIds.has(r.pageId));
  const isStale = (r: (typeof requested)[number]) => (closedAt.get(r.firing.incident_id) ?? 0) >= r.firing.fired_at.getTime() || droppedByLog.has(r.pageId);
  const stale = notRecorded.filter(isStale);
  const unrecorded = notRecorded.filter((r) => !isStale(r));
  // Where was it lost: before Kafka (oncall's outbox) or after (notifier's consumer)?
  const inKafka = unrecorded.length ? await pageRequestsInKafka(stack) : new Map<string, number>();
  const notifierIncident = new Map(notifierIncidents.map((i) => [i.id, i]));
  const incidentById = new Map(incidents.map((i) => [i.id, i]));
  add(
    lost,
    'pages requested by oncall that notifier never recorded',
    unrecorded.map(({ pageId, firing }) => {
      const n = notifierIncident.get(firing.incident_id);
      const i = incidentById.get(firing.incident_id);
      return `${pageId} (fired ${firing.fired_at.toISOString()}; page.requested in Kafka ${inKafka.get(pageId) ?? 0} times; notifier's copy: ${n ? `${n.status} since ${n.changed_at.toISOString()}` : 'none'}; incidents: #${i?.number} ${i?.status}, acknowledged ${i?.acknowledged_at?.toISOString() ?? '-'})`;
    }),
  );

  // 4. notification → message (or a recorded failure)
  const phoneAndPush = [
    ...stack.twilio.messages.map((m) => ({ channel: 'sms', id: m.sid, to: m.to })),
    ...stack.twilio.calls.map((c) => ({ channel: 'voice', id: c.sid, to: c.to })),
    ...stack.fcm.sends.map((p) => ({ channel: 'push', id: p.name, to: p.message.token })),
  ];
  const mailIds = new Map<string, number>();
  for (const m of stack.smtp.mails) mailIds.set(m.messageId, (mailIds.get(m.messageId) ?? 0) + 1);
  const atProvider = new Set([...phoneAndPush.map((m) => m.id), ...mailIds.keys()]);
  const reached = (n: NotificationRow) => !!n.provider_message_id && atProvider.has(n.provider_message_id);
  add(
    lost,
    'notifications recorded sent that never reached the provider',
    notifications.filter((n) => ['sent', 'delivered'].includes(n.status) && !reached(n)).map((n) => `${n.channel} ${n.id}`),
  );
  add(
    lost,
    'notifications still sending or overdue after the system went quiet',
    notifications.filter((n) => n.overdue).map((n) => `${n.channel} ${n.status} ${n.id}`),
  );

  // Doubled. A provider message that no notification records is either a send whose outcome
  // notifier could not learn (recorded 'unknown': not resent, by design) or a second send. Per
  // phone number and channel, messages beyond the notifications recorded 'unknown' are doubles.
  const recorded = new Set(notifications.map((n) => n.provider_message_id).filter(Boolean));
  const unknownAt = new Map<string, number>();
  for (const n of notifications)
    if (!n.provider_message_id && ['unknown', 'failed'].includes(n.status))
      unknownAt.set(`${n.channel}/${n.destination}`, (unknownAt.get(`${n.channel}/${n.destination}`) ?? 0) + 1);
  const unrecordedSends = phoneAndPush.filter((m) => !recorded.has(m.id));
  let sentButUnknown = 0;
  const extra: string[] = [];
  for (const m of unrecordedSends) {
    const k = `${m.channel}/${m.to}`;
    if ((unknownAt.get(k) ?? 0) > 0) {
      unknownAt.set(k, unknownAt.get(k)! - 1);
      sentButUnknown += 1;
    } else extra.push(`${m.channel} ${m.id} to ${m.to}`);
  }
  add(doubled, 'SMS, calls and pushes the provider took beyond what notifier recorded', extra);
  add(
    doubled,
    'emails received more than once',
    [...mailIds].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`),
  );
  // An email's Message-ID names the notification that sent it.
  const notificationIds = new Set(notifications.map((n) => n.id));
  add(
    doubled,
    'emails whose notification does not exist',
    [...mailIds.keys()].filter((id) => !notificationIds.has(/^<([^@]+)@/.exec(id)?.[1] ?? '')),
  );

  // State: everything was resolved by its monitor at the end, so nothing may be left open anywhere.
  add(
    wrong,
    'alerts left open after every monitor resolved',
    alerts.filter((a) => a.status !== 'resolved').map((a) => `${a.dedup_key} ${a.status}`),
  );
  add(
    wrong,
    'incidents left open after every monitor resolved',
    incidents.filter((i) => i.status !== 'resolved').map((i) => `#${i.number} ${i.status}`),
  );
  add(
    wrong,
    'escalations still active for resolved incidents',
    escalations.filter((e) => e.state === 'active').map((e) => e.incident_id),
  );
  // Paging after an acknowledgement or resolve: a step fired more than 2 s after it (and the incident never un-acknowledged since).
  const late: Finding[] = [];
  const back = new Map<string, number>();
  for (const r of reTriggered) back.set(r.incident_id, Math.max(back.get(r.incident_id) ?? 0, r.at.getTime()));
  const sentFor = new Map<string, number>();
  for (const n of notifications) if (n.kind === 'page' && ['sent', 'delivered'].includes(n.status)) sentFor.set(n.page_id, (sentFor.get(n.page_id) ?? 0) + 1);
  const after = (i: (typeof incidents)[number], at: Date | null, unless: (i: (typeof incidents)[number]) => boolean) => {
    if (!at || unless(i)) return undefined;
    const lateFirings = (fired.get(i.id) ?? []).filter((f) => f.fired_at.getTime() > at.getTime() + 2000);
    if (!lateFirings.length) return undefined;
    const lag = Math.max(...lateFirings.map((f) => f.fired_at.getTime() - at.getTime()));
    const messages = lateFirings.reduce((n, f) => n + f.user_ids.reduce((m, u) => m + (sentFor.get(pageIdOf(f, u)) ?? 0), 0), 0);
    return `#${i.number}: ${lateFirings.length} step(s) up to ${(lag / 1000).toFixed(1)} s after; ${messages} message(s) sent for them`;
  };
  const list = (f: (i: (typeof incidents)[number]) => string | undefined) => incidents.map(f).filter((x): x is string => !!x);
  add(
    late,
    'acknowledged incidents whose escalation went on',
    list((i) => after(i, i.acknowledged_at, (x) => (back.get(x.id) ?? 0) > (x.acknowledged_at?.getTime() ?? 0))),
  );
  add(
    late,
    'resolved incidents whose escalation went on',
    list((i) => after(i, i.resolved_at, () => false)),
  );

  const pages = notifications.filter((n) => n.kind === 'page');
  const byStatus = (status: string[]) => pages.filter((n) => status.includes(n.status)).length;
  const channel = (c: string) => `${pages.filter((n) => n.channel === c && ['sent', 'delivered'].includes(n.status)).length}`;
  return {
    lost,
    doubled,
    wrong,
    late,
    counts: {
      'alerts stored': alerts.length,
      'occurrences counted': alerts.reduce((n, a) => n + a.count, 0),
      incidents: incidents.length,
      'incidents acknowledged': incidents.filter((i) => i.acknowledged_at).length,
      'escalation steps fired': firings.length,
      'pages requested (person × step)': requested.length,
      'pages dropped as stale (incident acknowledged or resolved before notifier had them)': stale.length,
      'page notifications': pages.length,
      'sent (sms / voice / push / email)': `${channel('sms')} / ${channel('voice')} / ${channel('push')} / ${channel('email')}`,
      'failed or unknown (recorded)': byStatus(['failed', 'undelivered', 'unknown']),
      'of those, sent in fact (the provider timed out; not resent)': sentButUnknown,
      'why (channel, status, error: count)': reasons(pages.filter((n) => ['failed', 'undelivered', 'unknown'].includes(n.status))),
      cancelled: byStatus(['cancelled']),
      'queued, due later (will be cancelled)': pages.filter((n) => n.status === 'queued' && !n.overdue).length,
      'messages at the providers (sms / calls / pushes / emails)': `${stack.twilio.messages.length} / ${stack.twilio.calls.length} / ${stack.fcm.sends.length} / ${stack.smtp.mails.length}`,
    },
  };
}

/** Every page.requested on the pages topic, by page id (how many copies). */
async function pageRequestsInKafka(stack: ChaosStack): Promise<Map<string, number>> {
  const tap = await stack.world.tap('pages');
  try {
    await waitUntilQuiet(stack.world, { services: [], taps: [tap] });
  } finally {
    await tap.stop();
  }
  const out = new Map<string, number>();
  for (const m of tap.messages) {
    const pageId = (m.json?.data as { pageId?: string } | undefined)?.pageId;
    if (m.json?.type === 'page.requested' && pageId) out.set(pageId, (out.get(pageId) ?? 0) + 1);
  }
  return out;
}

/** The page id oncall gives a step's page to one person (apps/oncall/src/escalation/engine.ts). */
function pageIdOf(f: { incident_id: string; generation: number; loop: number; step: number }, userId: string): string {
  return `${f.incident_id}:g${f.generation}:l${f.loop}:s${f.step}:${userId}`;
}

/** The commonest failure reasons, for the counts. */
function reasons(failed: NotificationRow[]): string {
  const by = new Map<string, number>();
  for (const n of failed) {
    const k = `${n.channel} ${n.status} "${(n.error ?? '').slice(0, 80)}"`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return (
    [...by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ') || 'none'
  );
}

/** Page ids notifier logged as dropped because their incident was no longer triggered. */
function staleInLogs(dir: string): Set<string> {
  const out = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('notifier-'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line.includes('no longer triggered')) continue;
      const id = /"pageId":"([^"]+)"/.exec(line)?.[1];
      if (id) out.add(id);
    }
  }
  return out;
}
