import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData, EventInput } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { Outbox, Timers } from '#libs/messaging';
import { ConflictError, NotFoundError } from '#libs/platform';
import { dedupTimerKey } from './alert-writer.js';

type Actor = NonNullable<EventData<'alert.resolved'>['by']>;

/** An alert row as the state changes below need it. */
interface AlertRow {
  id: string;
  service_id: string;
  integration_id: string | null;
  integration_type: string | null;
  dedup_key: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: EventData<'alert.triggered'>['severity'];
  source: string | null;
  component: string | null;
  group: string | null;
  class: string | null;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
  labels: Record<string, string>;
  occurrence: string | null;
  last_occurrence: string | null;
  count: number;
  last_seen_at: Date;
}

/**
 * The alert side of the state rule every service honours (docs/architecture.md, "Alerts and
 * incidents stay in step"): an incident resolved anywhere resolves its open alerts, so the next
 * trigger on their dedup keys opens a new alert and pages; a repeat that alert-ingest accepted
 * after the incident was resolved (it heard of the resolve later) is such a next trigger; a person
 * can resolve one alert; a maintenance window that ends releases the alerts it held that still fire.
 */
@Injectable()
export class AlertStates {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A person resolves an alert: its incident hears it as alert.resolved (and resolves when it was the last open one, if the service says so). */
  resolveByPerson(alertId: string, by: Actor): Promise<void> {
    return this.db.transaction(async (em) => {
      const [alert] = await queryRows<AlertRow>(em, 'SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [alertId]);
      if (!alert) throw new NotFoundError('Alert', alertId);
      if (alert.status === 'resolved') throw new ConflictError(`Alert ${alertId} is already resolved`);
      const now = this.clock.now();
      await em.query(`UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = 'person' WHERE id = $1`, [alertId, now]);
      await this.flushRepeats(em, [alert]);
      await this.outbox.publish(em, 'alert.resolved', alertId, { ...ref(alert), resolvedAt: now.toISOString(), by });
    });
  }

  /**
   * incident.resolved: its open alerts are resolved (by their incident). An alert that repeated
   * after the incident was resolved is still firing: it is resolved too and a new alert opens for
   * its key at once, which pages like any new alert (PagerDuty: a trigger after the resolve opens a
   * new incident). Their episode markers are cleared, so a later firing of the same Alertmanager
   * episode is a new trigger, not a stale one.
   */
  async onIncidentResolved(em: EntityManager, e: EventData<'incident.resolved'>): Promise<void> {
    if (e.alertIds.length === 0) return;
    const freed = await queryRows<AlertRow>(
      em,
      `UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = 'incident', occurrence = NULL
       WHERE id = ANY($1::uuid[]) AND status <> 'resolved'
       RETURNING *`,
      [e.alertIds, e.resolvedAt],
    );
    if (freed.length === 0) return;
    await this.timers.cancelMany(
      em,
      freed.map((a) => dedupTimerKey(a.id)),
    );
    const resolvedAt = Date.parse(e.resolvedAt);
    const recurring = freed.filter((a) => new Date(a.last_seen_at).getTime() > resolvedAt);
    for (const a of recurring) await this.reopen(em, a);
  }

  /**
   * A maintenance window ended (at its end, ended early, moved or deleted): the alerts it held on
   * these services that still fire, and that no other active window holds, page now as new alerts
   * would have. Returns how many were released.
   */
  async releaseHeld(em: EntityManager, serviceIds: string[]): Promise<number> {
    if (serviceIds.length === 0) return 0;
    const now = this.clock.now();
    const released = await queryRows<AlertRow>(
      em,
      `UPDATE alerts a SET in_maintenance = false
       WHERE a.in_maintenance AND a.status <> 'resolved' AND a.service_id = ANY($1::uuid[])
         AND NOT EXISTS (SELECT 1 FROM maintenance_windows w WHERE w.service_ids @> ARRAY[a.service_id] AND w.starts_at <= $2 AND w.ends_at > $2)
       RETURNING a.*`,
      [serviceIds, now],
    );
    // An alert the monitoring tool acknowledged stays quiet (its repeats page nobody, as for any acknowledged alert).
    const firing = released.filter((a) => a.status === 'triggered').sort((x, y) => x.id.localeCompare(y.id));
    await this.outbox.publishMany(
      em,
      firing.map((a) => ({ type: 'alert.triggered' as const, key: a.id, data: triggered(a, a.id, now, false) })),
    );
    return firing.length;
  }

  /** Opens a new alert for a key whose alert was just resolved while it still fired. */
  private async reopen(em: EntityManager, a: AlertRow): Promise<void> {
    const id = randomUUID();
    const seenAt = new Date(a.last_seen_at);
    const episode = a.last_occurrence ?? a.occurrence;
    const [row] = await queryRows<{ in_maintenance: boolean }>(
      em,
      `INSERT INTO alerts (id, service_id, integration_id, integration_type, dedup_key, status, summary, severity, source, component, "group", class,
                           details, links, labels, occurrence, last_occurrence, in_maintenance, count, first_seen_at, last_seen_at)
       SELECT $1, service_id, integration_id, integration_type, dedup_key, 'triggered', summary, severity, source, component, "group", class,
              details, links, labels, $3, $3,
              EXISTS (SELECT 1 FROM maintenance_windows w WHERE w.service_ids @> ARRAY[alerts.service_id] AND w.starts_at <= $4 AND w.ends_at > $4),
              1, $5, $5
       FROM alerts WHERE id = $2
       ON CONFLICT DO NOTHING
       RETURNING in_maintenance`,
      [id, a.id, episode, this.clock.now(), seenAt],
    );
    // Another open alert for the key already (a trigger that won the race): it pages on its own.
    if (!row) return;
    await this.outbox.publish(em, 'alert.triggered', id, triggered(a, id, seenAt, row.in_maintenance));
  }

  /** A resolved alert's pending repeat count is reported now, before its resolution. */
  private async flushRepeats(em: EntityManager, alerts: AlertRow[]): Promise<void> {
    const flushed = new Set(
      await this.timers.cancelMany(
        em,
        alerts.map((a) => dedupTimerKey(a.id)),
      ),
    );
    for (const a of alerts) {
      if (!flushed.has(dedupTimerKey(a.id))) continue;
      await this.outbox.publish(em, 'alert.deduplicated', a.id, { ...ref(a), count: a.count, lastSeenAt: new Date(a.last_seen_at).toISOString() });
    }
  }
}

function ref(a: AlertRow): { alertId: string; serviceId: string; integrationId: string | null; dedupKey: string } {
  return { alertId: a.id, serviceId: a.service_id, integrationId: a.integration_id, dedupKey: a.dedup_key };
}

function triggered(a: AlertRow, id: string, at: Date, inMaintenance: boolean): EventInput<'alert.triggered'> {
  return {
    ...ref(a),
    alertId: id,
    integrationType: a.integration_type ?? 'unknown',
    summary: a.summary,
    severity: a.severity,
    source: a.source,
    component: a.component,
    group: a.group,
    class: a.class,
    details: a.details,
    links: a.links,
    labels: a.labels,
    inMaintenance,
    triggeredAt: at.toISOString(),
  };
}
