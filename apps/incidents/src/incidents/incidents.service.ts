import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData } from '#libs/contracts';
import { Outbox } from '#libs/messaging';
import { ConflictError, NotFoundError } from '#libs/platform';
import { Incident, TimelineEntry, type Actor } from './incident.entity.js';
import { acknowledge, priorityForSeverity, resolve } from './lifecycle.js';
import { queryRows } from '#libs/database';

interface ServiceSettings {
  name: string;
  auto_resolve_on_alert_resolve: boolean;
}

@Injectable()
export class IncidentsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  // ---- from alerts ------------------------------------------------------------------------------

  /** A new alert: record it and open an incident for it (unless the service is in maintenance). */
  async onAlertTriggered(em: EntityManager, alert: EventData<'alert.triggered'>): Promise<void> {
    const now = this.clock.now();
    if (alert.inMaintenance) {
      await this.recordAlert(em, alert, null);
      return;
    }
    const id = randomUUID();
    const priority = priorityForSeverity(alert.severity);
    const [row]: { number: number }[] = await em.query(
      `INSERT INTO incidents (id, number, service_id, title, status, priority, urgency, alert_count, created_at, updated_at)
       VALUES ($1, nextval('incident_number_seq'), $2, $3, 'triggered', $4, 'high', 1, $5, $5) RETURNING number`,
      [id, alert.serviceId, alert.summary, priority, now],
    );
    await this.recordAlert(em, alert, id);
    await this.addTimeline(em, id, 'alert.joined', { alertId: alert.alertId, summary: alert.summary, dedupKey: alert.dedupKey }, { userId: null, name: null, source: 'monitor' });
    await this.outbox.publish(em, 'incident.triggered', id, {
      incidentId: id,
      number: row!.number,
      serviceId: alert.serviceId,
      title: alert.summary,
      priority,
      urgency: 'high',
      alertId: alert.alertId,
      triggeredAt: now.toISOString(),
      reason: 'new',
    });
  }

  /** The monitoring tool acknowledged: the incident is acknowledged too (PagerDuty semantics). */
  async onAlertAcknowledged(em: EntityManager, alert: EventData<'alert.acknowledged'>): Promise<void> {
    const [link]: { incident_id: string | null }[] = await em.query('SELECT incident_id FROM incident_alerts WHERE alert_id = $1', [alert.alertId]);
    if (!link?.incident_id) return;
    await this.acknowledge(em, link.incident_id, { userId: null, name: null, source: 'monitor' }, { quiet: true });
  }

  /** The monitoring tool resolved an alert; when all of an incident's alerts are resolved, so is the incident (if the service says so). */
  async onAlertResolved(em: EntityManager, alert: EventData<'alert.resolved'>): Promise<void> {
    const [link] = await queryRows<{ incident_id: string | null }>(
      em,
      `UPDATE incident_alerts SET status = 'resolved', resolved_at = $2 WHERE alert_id = $1 RETURNING incident_id`,
      [alert.alertId, alert.resolvedAt],
    );
    if (!link?.incident_id) return;
    const incidentId = link.incident_id;
    await this.addTimeline(em, incidentId, 'alert.resolved', { alertId: alert.alertId, dedupKey: alert.dedupKey }, { userId: null, name: null, source: 'monitor' });
    const [svc]: ServiceSettings[] = await em.query('SELECT name, auto_resolve_on_alert_resolve FROM services WHERE id = $1', [alert.serviceId]);
    if (svc && !svc.auto_resolve_on_alert_resolve) return;
    const [open]: { n: number }[] = await em.query(`SELECT count(*)::int AS n FROM incident_alerts WHERE incident_id = $1 AND status <> 'resolved'`, [incidentId]);
    if (open!.n === 0) await this.resolve(em, incidentId, { userId: null, name: null, source: 'monitor' }, { quiet: true });
  }

  // ---- commands ---------------------------------------------------------------------------------

  /**
   * Acknowledges an incident. From the API a second acknowledgement is a 409 naming who did it;
   * from events (`quiet`) it is a no-op, so a duplicate from two channels is recorded once.
   */
  async acknowledge(em: EntityManager, incidentId: string, by: Actor, opts: { quiet?: boolean } = {}): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    const t = acknowledge(incident.status);
    if (!t.ok) {
      if (opts.quiet) return incident;
      throw new ConflictError(`Incident #${incident.number} was ${t.message}${describeActor(t.reason === 'already' ? incident.acknowledgedBy : incident.resolvedBy)}`);
    }
    const now = this.clock.now();
    await em.query(`UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3::jsonb, updated_at = $2 WHERE id = $1`, [
      incidentId,
      now,
      JSON.stringify(by),
    ]);
    await this.addTimeline(em, incidentId, 'incident.acknowledged', {}, by);
    await this.outbox.publish(em, 'incident.acknowledged', incidentId, {
      incidentId,
      number: incident.number,
      serviceId: incident.serviceId,
      by,
      acknowledgedAt: now.toISOString(),
    });
    return { ...incident, status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by };
  }

  async resolve(em: EntityManager, incidentId: string, by: Actor, opts: { quiet?: boolean } = {}): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    const t = resolve(incident.status);
    if (!t.ok) {
      if (opts.quiet) return incident;
      throw new ConflictError(`Incident #${incident.number} was ${t.message}${describeActor(incident.resolvedBy)}`);
    }
    const now = this.clock.now();
    await em.query(`UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3::jsonb, updated_at = $2 WHERE id = $1`, [
      incidentId,
      now,
      JSON.stringify(by),
    ]);
    await this.addTimeline(em, incidentId, 'incident.resolved', {}, by);
    await this.outbox.publish(em, 'incident.resolved', incidentId, {
      incidentId,
      number: incident.number,
      serviceId: incident.serviceId,
      by,
      resolvedAt: now.toISOString(),
    });
    return { ...incident, status: 'resolved', resolvedAt: now, resolvedBy: by };
  }

  // ---- queries ----------------------------------------------------------------------------------

  list(filter: { status?: string; serviceId?: string; limit: number }): Promise<Incident[]> {
    const qb = this.db.getRepository(Incident).createQueryBuilder('i').orderBy('i.number', 'DESC').limit(filter.limit);
    if (filter.status) qb.andWhere('i.status = :status', { status: filter.status });
    if (filter.serviceId) qb.andWhere('i.service_id = :serviceId', { serviceId: filter.serviceId });
    return qb.getMany();
  }

  async get(id: string): Promise<Incident> {
    const incident = await this.db.getRepository(Incident).findOneBy({ id });
    if (!incident) throw new NotFoundError('Incident', id);
    return incident;
  }

  async timeline(id: string, order: 'asc' | 'desc', limit: number): Promise<TimelineEntry[]> {
    await this.get(id);
    return this.db.getRepository(TimelineEntry).find({ where: { incidentId: id }, order: { id: order === 'asc' ? 'ASC' : 'DESC' }, take: limit });
  }

  async addTimeline(em: EntityManager, incidentId: string, kind: string, details: Record<string, unknown>, actor: Actor | null = null): Promise<void> {
    await em.query('INSERT INTO timeline (incident_id, at, kind, actor, details) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)', [
      incidentId,
      this.clock.now(),
      kind,
      actor ? JSON.stringify(actor) : null,
      JSON.stringify(details),
    ]);
  }

  private async recordAlert(em: EntityManager, alert: EventData<'alert.triggered'>, incidentId: string | null): Promise<void> {
    await em.query(
      `INSERT INTO incident_alerts (alert_id, incident_id, service_id, dedup_key, summary, severity, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'triggered', $7) ON CONFLICT (alert_id) DO NOTHING`,
      [alert.alertId, incidentId, alert.serviceId, alert.dedupKey, alert.summary, alert.severity, alert.triggeredAt],
    );
  }

  private async lock(em: EntityManager, incidentId: string): Promise<Incident> {
    const incident = await em.findOne(Incident, { where: { id: incidentId }, lock: { mode: 'pessimistic_write' } });
    if (!incident) throw new NotFoundError('Incident', incidentId);
    return incident;
  }
}

function describeActor(actor: Actor | null): string {
  if (!actor) return '';
  if (actor.name) return ` by ${actor.name}`;
  if (actor.source === 'monitor') return ' by the monitoring tool';
  return ` via ${actor.source}`;
}
