import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { Outbox } from '#libs/messaging';
import type { Integration } from '../integrations/integration.entity.js';
import type { NormalizedEvent } from './normalized.js';
import { queryRows } from '#libs/database';

export type ApplyOutcome = 'created' | 'deduplicated' | 'acknowledged' | 'resolved' | 'ignored';

/**
 * Dedup, as PagerDuty and Opsgenie do it: at most one open alert per (service, dedup key), enforced
 * by a partial unique index. A trigger on an open alert counts it and pages nobody; acknowledge
 * and resolve act on the open alert and are accepted and ignored when there is none; after a
 * resolve the same key opens a new alert.
 */
@Injectable()
export class AlertsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  apply(integration: Pick<Integration, 'id' | 'serviceId' | 'type'>, event: NormalizedEvent): Promise<{ outcome: ApplyOutcome; alertId?: string }> {
    return this.db.transaction((em) => this.applyIn(em, integration, event));
  }

  async applyIn(em: EntityManager, integration: Pick<Integration, 'id' | 'serviceId' | 'type'>, event: NormalizedEvent): Promise<{ outcome: ApplyOutcome; alertId?: string }> {
    const now = this.clock.now();
    if (event.action === 'trigger') {
      const [row]: { id: string; inserted: boolean }[] = await em.query(
        `INSERT INTO alerts (id, service_id, integration_id, dedup_key, status, summary, severity, source, details, count, first_seen_at, last_seen_at)
         VALUES ($1, $2, $3, $4, 'triggered', $5, $6, $7, $8::jsonb, 1, $9, $9)
         ON CONFLICT (service_id, dedup_key) WHERE status <> 'resolved'
         DO UPDATE SET count = alerts.count + 1, last_seen_at = EXCLUDED.last_seen_at
         RETURNING id, (xmax = 0) AS inserted`,
        [randomUUID(), integration.serviceId, integration.id, event.dedupKey, event.summary, event.severity, event.source, JSON.stringify(event.details), now],
      );
      if (!row!.inserted) return { outcome: 'deduplicated', alertId: row!.id };
      await this.outbox.publish(em, 'alert.triggered', row!.id, {
        alertId: row!.id,
        serviceId: integration.serviceId,
        integrationId: integration.id,
        dedupKey: event.dedupKey,
        integrationType: integration.type,
        summary: event.summary,
        severity: event.severity,
        source: event.source,
        component: event.component ?? null,
        group: event.group ?? null,
        class: event.class ?? null,
        details: event.details,
        links: event.links,
        labels: event.labels,
        inMaintenance: false,
        triggeredAt: now.toISOString(),
      });
      return { outcome: 'created', alertId: row!.id };
    }

    const target = event.action === 'acknowledge' ? 'acknowledged' : 'resolved';
    // Acknowledge only moves a triggered alert; resolve closes a triggered or acknowledged one.
    const from = event.action === 'acknowledge' ? ['triggered'] : ['triggered', 'acknowledged'];
    const [row] = await queryRows<{ id: string }>(
      em,
      `UPDATE alerts SET status = $3, ${target === 'resolved' ? 'resolved_at' : 'acknowledged_at'} = $4
       WHERE service_id = $1 AND dedup_key = $2 AND status = ANY($5::text[]) RETURNING id`,
      [integration.serviceId, event.dedupKey, target, now, from],
    );
    if (!row) return { outcome: 'ignored' };
    const ref = { alertId: row.id, serviceId: integration.serviceId, integrationId: integration.id, dedupKey: event.dedupKey };
    if (target === 'acknowledged') {
      await this.outbox.publish(em, 'alert.acknowledged', row.id, { ...ref, acknowledgedAt: now.toISOString() });
      return { outcome: 'acknowledged', alertId: row.id };
    }
    await this.outbox.publish(em, 'alert.resolved', row.id, { ...ref, resolvedAt: now.toISOString() });
    return { outcome: 'resolved', alertId: row.id };
  }
}
