import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import type { EventType } from '#libs/contracts';
import { queryPrepared, queryRows } from '#libs/database';
import { Outbox, outboxInsert, outboxRows, Timers } from '#libs/messaging';
import { correlationIdOrNew, currentCorrelationId } from '#libs/observability';
import type { IngestConfig } from '../config.js';
import type { EventOutcome, IntegrationRef, NormalizedEvent } from './normalized.js';
import { planRounds } from './rounds.js';
import { eventDetails } from './sanitize.js';

/** One sender request: its events in order, plus what makes a retry of it change nothing. */
export interface IngestItem {
  integration: IntegrationRef;
  events: NormalizedEvent[];
  /** The sender's id for this delivery (SNS MessageId, Idempotency-Key): seen before means done before. */
  deliveryId?: string;
  /** Opsgenie-style: remember what became of the request under this id. */
  request?: { id: string; action: string; alias?: string | null };
  /** The sender's request's correlation id: a group commit writes many requests in one context. */
  correlationId?: string;
}

export interface IngestResult {
  /** True when the delivery id was seen before: nothing was applied again. */
  redelivered: boolean;
  outcomes: EventOutcome[];
}

export const DEDUP_TIMER = 'alert.dedup-report';

/** A repeat report scheduled and committed: the alert it counts and when it is due (ms). */
export interface PendingReport {
  alertId: string;
  due: number;
}

const pendingKey = (serviceId: string, dedupKey: string): string => `${serviceId}\u0000${dedupKey}`;
export const dedupTimerKey = (alertId: string): string => `alert.dedup:${alertId}`;

interface Pending {
  item: number;
  index: number;
  integration: IntegrationRef;
  event: NormalizedEvent;
  correlationId?: string;
}

interface OutEvent {
  type: EventType;
  key: string;
  data: unknown;
  correlationId?: string;
}

/**
 * Dedup, as PagerDuty and Opsgenie do it, for a whole batch of requests in one transaction: at
 * most one open alert per (service, dedup key), enforced by a partial unique index. A trigger on
 * an open alert counts it and pages nobody (its count is reported later, coalesced, by a durable
 * timer); acknowledge and resolve act on the open alert and are accepted and ignored when there
 * is none; after a resolve the same key opens a new alert.
 */
@Injectable()
export class AlertWriter {
  constructor(
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IngestConfig,
  ) {}

  /**
   * Repeat reports this instance scheduled and saw committed, by service and dedup key: the open
   * alert and the report's due time. A timer cannot fire before it is due, so until then a repeat
   * need not touch the timers table (in a storm of repeats, that saves a write per batch).
   */
  private readonly reportsPending = new Map<string, PendingReport>();

  /** Called after the transaction that scheduled these reports committed. */
  noteReportsScheduled(scheduled: Map<string, PendingReport>): void {
    if (this.reportsPending.size > 100_000) this.reportsPending.clear();
    for (const [key, report] of scheduled) this.reportsPending.set(key, report);
  }

  /**
   * True when the batch is new alerts or repeats only, each key once: then its whole write (alerts,
   * their events, repeat reports) is the one trigger statement, which needs no transaction of its
   * own (a statement commits atomically), so it costs one round trip instead of four.
   */
  fitsOneStatement(items: IngestItem[]): boolean {
    const keys = new Set<string>();
    for (const it of items) {
      if (it.deliveryId || it.request) return false;
      for (const e of it.events) {
        const key = pendingKey(it.integration.serviceId, e.dedupKey);
        if (e.action !== 'trigger' || keys.has(key)) return false;
        keys.add(key);
      }
    }
    return keys.size > 0;
  }

  /**
   * Writes a batch. Inside a transaction, or (when fitsOneStatement) on a plain connection: then
   * the only statement is the trigger statement.
   */
  async applyIn(em: EntityManager, items: IngestItem[], reportsScheduled?: Map<string, PendingReport>): Promise<IngestResult[]> {
    const now = this.clock.now();
    const results: IngestResult[] = items.map((it) => ({ redelivered: false, outcomes: it.events.map(() => ({ outcome: 'ignored' as const })) }));
    const fresh = await this.claimDeliveries(em, items, now);
    fresh.forEach((isFresh, i) => (results[i]!.redelivered = !isFresh));

    const pending: Pending[] = [];
    items.forEach((it, item) => {
      if (fresh[item]) it.events.forEach((event, index) => pending.push({ item, index, integration: it.integration, event, correlationId: it.correlationId }));
    });
    const out: OutEvent[] = [];
    for (const round of planRounds(pending, (p) => pendingKey(p.integration.serviceId, p.event.dedupKey))) {
      const triggers = round.filter((p) => p.event.action === 'trigger');
      const changes = round.filter((p) => p.event.action !== 'trigger');
      if (triggers.length) {
        // The trigger statement writes its own events: earlier rounds' go first (outbox order = order applied).
        await this.outbox.publishMany(em, out.splice(0));
        await this.trigger(em, triggers, results, now, reportsScheduled);
      }
      if (changes.length) await this.change(em, changes, results, out, now);
    }
    await this.outbox.publishMany(em, out);
    await this.recordRequests(em, items, results, now);
    return results;
  }

  /** Records delivery ids; returns, per item, whether it is new (true) or a redelivery. */
  private async claimDeliveries(em: EntityManager, items: IngestItem[], now: Date): Promise<boolean[]> {
    const fresh = items.map(() => true);
    const firstOf = new Map<string, number>();
    items.forEach((it, i) => {
      if (!it.deliveryId) return;
      const k = `${it.integration.id}\u0000${it.deliveryId}`;
      if (firstOf.has(k)) fresh[i] = false;
      else firstOf.set(k, i);
    });
    if (firstOf.size === 0) return fresh;
    const claims = [...firstOf.values()].map((i) => items[i]!);
    const rows = await queryRows<{ integration_id: string; delivery_id: string }>(
      em,
      `INSERT INTO deliveries (integration_id, delivery_id, received_at)
       SELECT i, d, $3 FROM unnest($1::uuid[], $2::text[]) AS t(i, d) ORDER BY i, d
       ON CONFLICT DO NOTHING RETURNING integration_id, delivery_id`,
      [claims.map((c) => c.integration.id), claims.map((c) => c.deliveryId), now],
    );
    const claimed = new Set(rows.map((r) => `${r.integration_id}\u0000${r.delivery_id}`));
    for (const [k, i] of firstOf) if (!claimed.has(k)) fresh[i] = false;
    return fresh;
  }

  /**
   * One statement for a round of triggers: opens the new alerts and counts the repeats, writes the
   * new alerts' `alert.triggered` events to the outbox (built and validated here beforehand, their
   * maintenance flag completed by the statement) and schedules the repeats' coalesced reports.
   */
  private async trigger(em: EntityManager, round: Pending[], results: IngestResult[], now: Date, reportsScheduled?: Map<string, PendingReport>): Promise<void> {
    const ids = round.map(() => randomUUID());
    const col = <T>(f: (p: Pending) => T): T[] => round.map(f);
    const triggeredAt = now.toISOString();
    const events = this.outbox.prepare(
      round.map((p, i) => ({
        type: 'alert.triggered' as const,
        key: ids[i]!,
        correlationId: p.correlationId,
        data: {
          alertId: ids[i]!,
          serviceId: p.integration.serviceId,
          integrationId: p.integration.id,
          dedupKey: p.event.dedupKey,
          integrationType: p.integration.type,
          summary: p.event.summary,
          severity: p.event.severity,
          source: p.event.source,
          component: p.event.component ?? null,
          group: p.event.group ?? null,
          class: p.event.class ?? null,
          details: eventDetails(p.event.details),
          links: p.event.links,
          labels: p.event.labels,
          inMaintenance: false,
          triggeredAt,
        },
      })),
    );
    // A repeat whose report this instance already scheduled (and is not yet due) leaves the timers alone.
    const reportsDue = new Set<string>();
    for (const p of round) {
      const report = this.reportsPending.get(pendingKey(p.integration.serviceId, p.event.dedupKey));
      if (report && report.due > now.getTime() + 500) reportsDue.add(report.alertId);
    }
    const fallbackCorrelation = currentCorrelationId() ?? correlationIdOrNew();
    const dueAt = new Date(now.getTime() + this.config.INGEST_DEDUP_REPORT_SECONDS * 1000);
    const rows = await queryPrepared<{
      id: string;
      service_id: string;
      dedup_key: string;
      inserted: boolean;
      in_maintenance: boolean;
      report_scheduled: boolean;
    }>(
      em,
      'klaxon_ingest_trigger',
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                              $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::text[], $17::text[])
           AS i(id, service_id, integration_id, integration_type, dedup_key, summary, severity, source, component, grp, class, details, links, labels, occurrence, corr)
       ), fresh AS (
         SELECT i.* FROM input i
         -- a late firing of an episode the monitor already resolved (between the first and the latest episode it reported) reopens nothing
         WHERE i.occurrence IS NULL OR NOT EXISTS (
           SELECT 1 FROM alerts a WHERE a.service_id = i.service_id AND a.dedup_key = i.dedup_key AND a.status = 'resolved'
             AND a.occurrence <= i.occurrence AND i.occurrence <= coalesce(a.last_occurrence, a.occurrence))
       ), ins AS (
         INSERT INTO alerts (id, service_id, integration_id, integration_type, dedup_key, status, summary, severity, source, component, "group", class,
                             details, links, labels, occurrence, last_occurrence, in_maintenance, count, first_seen_at, last_seen_at)
         SELECT id, service_id, integration_id, integration_type, dedup_key, 'triggered', summary, severity, source, component, grp, class,
                details, links, labels, occurrence, occurrence,
                EXISTS (SELECT 1 FROM maintenance_windows w WHERE w.service_ids @> ARRAY[fresh.service_id] AND w.starts_at <= $16 AND w.ends_at > $16),
                1, $16, $16
         FROM fresh ORDER BY service_id, dedup_key
         ON CONFLICT (service_id, dedup_key) WHERE status <> 'resolved'
         DO UPDATE SET count = alerts.count + 1, last_seen_at = EXCLUDED.last_seen_at,
           last_occurrence = greatest(alerts.last_occurrence, EXCLUDED.last_occurrence)
         RETURNING id, service_id, dedup_key, (xmax = 0) AS inserted, in_maintenance
       ), announced AS (
         ${outboxInsert(`jsonb_set(e.payload, '{data,inMaintenance}', to_jsonb(ins.in_maintenance))`, 'e.payload')}
         FROM ${outboxRows('$18', '$19', 'e')} JOIN ins ON ins.inserted AND ins.id = (e.payload->>'key')::uuid
         ORDER BY e.n
       ), reports AS (
         INSERT INTO timers (kind, key, due_at, payload, correlation_id)
         SELECT $20, '${dedupTimerKey('')}' || ins.id, $21, jsonb_build_object('alertId', ins.id), coalesce(input.corr, $23)
         FROM ins JOIN input ON input.service_id = ins.service_id AND input.dedup_key = ins.dedup_key
         WHERE NOT ins.inserted AND NOT (ins.id = ANY($22::uuid[]))
         ORDER BY 2
         ON CONFLICT (key) DO NOTHING
         RETURNING key
       )
       SELECT ins.id, ins.service_id, ins.dedup_key, ins.inserted, ins.in_maintenance,
              EXISTS (SELECT 1 FROM reports r WHERE r.key = '${dedupTimerKey('')}' || ins.id) AS report_scheduled
       FROM ins`,
      [
        ids,
        col((p) => p.integration.serviceId),
        col((p) => p.integration.id),
        col((p) => p.integration.type),
        col((p) => p.event.dedupKey),
        col((p) => p.event.summary),
        col((p) => p.event.severity),
        col((p) => p.event.source),
        col((p) => p.event.component ?? null),
        col((p) => p.event.group ?? null),
        col((p) => p.event.class ?? null),
        col((p) => JSON.stringify(p.event.details)),
        col((p) => JSON.stringify(p.event.links)),
        col((p) => JSON.stringify(p.event.labels)),
        col((p) => p.event.occurrence ?? null),
        now,
        col((p) => p.correlationId ?? null),
        events.topics,
        events.json,
        DEDUP_TIMER,
        dueAt,
        [...reportsDue],
        fallbackCorrelation,
      ],
    );
    const byKey = new Map(rows.map((r) => [pendingKey(r.service_id, r.dedup_key), r]));
    for (const p of round) {
      const key = pendingKey(p.integration.serviceId, p.event.dedupKey);
      const row = byKey.get(key);
      // No row: a late duplicate of an episode already resolved (see `occurrence`).
      if (!row) continue;
      if (row.inserted) {
        results[p.item]!.outcomes[p.index] = { outcome: 'created', alertId: row.id, inMaintenance: row.in_maintenance };
        continue;
      }
      // A storm of repeats is one timer per alert, not one event per repeat.
      results[p.item]!.outcomes[p.index] = { outcome: 'deduplicated', alertId: row.id };
      if (row.report_scheduled) reportsScheduled?.set(key, { alertId: row.id, due: dueAt.getTime() });
    }
  }

  private async change(em: EntityManager, round: Pending[], results: IngestResult[], out: OutEvent[], now: Date): Promise<void> {
    const rows = await queryPrepared<{ n: number; id: string; status: string; count: number; last_seen_at: Date }>(
      em,
      'klaxon_ingest_change',
      `WITH input AS (SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $7::text[]) AS i(n, service_id, dedup_key, alert_id, target, occurrence))
       UPDATE alerts a SET status = i.target,
         acknowledged_at = CASE WHEN i.target = 'acknowledged' THEN $6 ELSE a.acknowledged_at END,
         resolved_at = CASE WHEN i.target = 'resolved' THEN $6 ELSE a.resolved_at END,
         resolved_by = CASE WHEN i.target = 'resolved' THEN 'monitor' ELSE a.resolved_by END
       FROM input i
       WHERE a.service_id = i.service_id AND a.dedup_key = i.dedup_key AND (i.alert_id IS NULL OR a.id = i.alert_id)
         AND a.status <> 'resolved' AND (i.target = 'resolved' OR a.status = 'triggered')
         -- a late "resolved" for an earlier episode leaves a newer one open; one for the same or a later
         -- episode resolves it (Alertmanager: a restarted Prometheus gives the same fingerprint a new startsAt)
         AND (i.occurrence IS NULL OR a.occurrence IS NULL OR a.occurrence <= i.occurrence)
       RETURNING i.n, a.id, a.status, a.count, a.last_seen_at`,
      [
        round.map((_, n) => n),
        round.map((p) => p.integration.serviceId),
        round.map((p) => p.event.dedupKey),
        round.map((p) => p.event.alertId ?? null),
        round.map((p) => (p.event.action === 'acknowledge' ? 'acknowledged' : 'resolved')),
        now,
        round.map((p) => p.event.occurrence ?? null),
      ],
    );
    // A resolved alert's pending repeat count is reported now, before its resolution, not after.
    const resolved = rows.filter((r) => r.status === 'resolved');
    const flushed = new Set(
      await this.timers.cancelMany(
        em,
        resolved.map((r) => dedupTimerKey(r.id)),
      ),
    );
    for (const r of resolved) this.reportsPending.delete(pendingKey(round[r.n]!.integration.serviceId, round[r.n]!.event.dedupKey));
    for (const row of rows.sort((a, b) => a.n - b.n)) {
      const p = round[row.n]!;
      const ref = { alertId: row.id, serviceId: p.integration.serviceId, integrationId: p.integration.id, dedupKey: p.event.dedupKey };
      const said = { by: p.event.actor ? { userId: null, name: p.event.actor, source: 'monitor' as const } : null, note: p.event.note ?? null };
      if (flushed.has(dedupTimerKey(row.id))) {
        out.push({
          type: 'alert.deduplicated',
          key: row.id,
          correlationId: p.correlationId,
          data: { ...ref, count: row.count, lastSeenAt: new Date(row.last_seen_at).toISOString() },
        });
      }
      if (row.status === 'acknowledged') {
        out.push({ type: 'alert.acknowledged', key: row.id, correlationId: p.correlationId, data: { ...ref, acknowledgedAt: now.toISOString(), ...said } });
        results[p.item]!.outcomes[p.index] = { outcome: 'acknowledged', alertId: row.id };
      } else {
        out.push({ type: 'alert.resolved', key: row.id, correlationId: p.correlationId, data: { ...ref, resolvedAt: now.toISOString(), ...said } });
        results[p.item]!.outcomes[p.index] = { outcome: 'resolved', alertId: row.id };
      }
    }
  }

  private async recordRequests(em: EntityManager, items: IngestItem[], results: IngestResult[], now: Date): Promise<void> {
    const recs = items.flatMap((it, i) => (it.request ? [{ it, req: it.request, result: results[i]! }] : []));
    if (recs.length === 0) return;
    const described = recs.map(({ req, result }) => describeRequest(req.action, result));
    await em.query(
      `INSERT INTO ingest_requests (id, integration_id, action, status, success, alert_id, alias, created_at)
       SELECT * , $8::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bool[], $6::uuid[], $7::text[])
       ON CONFLICT (id) DO NOTHING`,
      [
        recs.map((r) => r.req.id),
        recs.map((r) => r.it.integration.id),
        recs.map((r) => r.req.action),
        described.map((d) => d.status),
        described.map((d) => d.success),
        recs.map((r) => r.result.outcomes[0]?.alertId ?? null),
        recs.map((r) => r.req.alias ?? r.it.events[0]?.dedupKey ?? null),
        now,
      ],
    );
  }
}

/** What Opsgenie's request-status API says about a request, from what it did. */
export function describeRequest(action: string, result: IngestResult): { status: string; success: boolean } {
  const outcome = result.outcomes[0]?.outcome ?? 'ignored';
  if (result.redelivered) return { status: 'Request was already processed', success: true };
  switch (outcome) {
    case 'created':
      return { status: 'Created alert', success: true };
    case 'deduplicated':
      return { status: 'Alert is deduplicated', success: true };
    case 'acknowledged':
      return { status: 'Acknowledged', success: true };
    case 'resolved':
      return { status: 'Closed', success: true };
    default:
      return action === 'Create'
        ? { status: 'Alert was not created: it repeats an alert already resolved', success: false }
        : { status: 'Alert does not exist', success: false };
  }
}
