import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { Outbox, TimerRunner, Timers } from '#libs/messaging';
import { InvalidInputError, NotFoundError } from '#libs/platform';
import { AlertStates } from '../alerts/alert-states.js';
import { KnownServices } from '../directory/services.js';
import { isActive, type MaintenanceWindowInput } from './maintenance.js';

const RELEASE = 'maintenance.release';
const releaseKey = (windowId: string): string => `maintenance.release:${windowId}`;

export interface MaintenanceWindowView {
  id: string;
  serviceIds: string[];
  startsAt: string;
  endsAt: string;
  description: string;
  createdBy: string | null;
  active: boolean;
}

interface Row {
  id: string;
  service_ids: string[];
  starts_at: Date;
  ends_at: Date;
  description: string;
  created_by: string | null;
}

/**
 * Maintenance windows: while one is active for a service, its alerts are still recorded (and
 * marked inMaintenance) but open no incident and page nobody. Every change is announced on the
 * directory topic so oncall can hold escalations too. A window never leaves an alert parked: when
 * it ends (at its end time by a durable timer, ended early, moved or deleted) the alerts it held
 * that still fire are released and page.
 */
@Injectable()
export class MaintenanceService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    private readonly runner: TimerRunner,
    private readonly alerts: AlertStates,
    private readonly services: KnownServices,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.runner.register<{ serviceIds: string[] }>(RELEASE, async (timer, em) => {
      await this.alerts.releaseHeld(em, timer.payload.serviceIds);
    });
  }

  async list(f: { serviceId?: string; active?: boolean; includePast?: boolean }): Promise<MaintenanceWindowView[]> {
    const now = this.clock.now();
    const where: string[] = [];
    const params: unknown[] = [now];
    if (f.serviceId) {
      params.push([f.serviceId]);
      where.push(`service_ids @> $${params.length}::uuid[]`);
    }
    if (f.active) where.push('starts_at <= $1 AND ends_at > $1');
    else if (!f.includePast) where.push('ends_at > $1');
    const rows = await queryRows<Row>(
      this.db,
      `SELECT * FROM maintenance_windows WHERE $1::timestamptz IS NOT NULL ${where.map((w) => `AND ${w}`).join(' ')} ORDER BY starts_at`,
      params,
    );
    return rows.map((r) => view(r, now));
  }

  async get(id: string): Promise<MaintenanceWindowView> {
    return view(await this.load(this.db.manager, id), this.clock.now());
  }

  async create(input: MaintenanceWindowInput, createdBy: string | null): Promise<MaintenanceWindowView> {
    await this.services.require(dedupe(input.serviceIds));
    return this.db.transaction(async (em) => {
      const id = randomUUID();
      await em.query(`INSERT INTO maintenance_windows (id, service_ids, starts_at, ends_at, description, created_by) VALUES ($1, $2::uuid[], $3, $4, $5, $6)`, [
        id,
        dedupe(input.serviceIds),
        input.startsAt,
        input.endsAt,
        input.description,
        createdBy,
      ]);
      return this.announce(em, await this.load(em, id));
    });
  }

  async update(id: string, input: MaintenanceWindowInput): Promise<MaintenanceWindowView> {
    await this.services.require(dedupe(input.serviceIds));
    return this.db.transaction(async (em) => {
      const before = await this.load(em, id, true);
      await em.query(
        `UPDATE maintenance_windows SET service_ids = $2::uuid[], starts_at = $3, ends_at = $4, description = $5, updated_at = now() WHERE id = $1`,
        [id, dedupe(input.serviceIds), input.startsAt, input.endsAt, input.description],
      );
      const view = await this.announce(em, await this.load(em, id));
      // Services it no longer covers now (moved, shortened, a service taken out) are released at once.
      await this.alerts.releaseHeld(em, dedupe([...before.service_ids, ...input.serviceIds]));
      return view;
    });
  }

  /** Ends an active window now (a deploy finished early). */
  end(id: string): Promise<MaintenanceWindowView> {
    return this.db.transaction(async (em) => {
      const w = await this.load(em, id, true);
      const now = this.clock.now();
      if (!isActive({ startsAt: w.starts_at, endsAt: w.ends_at }, now))
        throw new InvalidInputError('This maintenance window is not active: update or delete it instead');
      await em.query(`UPDATE maintenance_windows SET ends_at = $2, updated_at = now() WHERE id = $1`, [
        id,
        new Date(Math.max(now.getTime(), w.starts_at.getTime() + 1)),
      ]);
      const view = await this.announce(em, await this.load(em, id));
      await this.alerts.releaseHeld(em, w.service_ids);
      return view;
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const [row] = await queryRows<{ service_ids: string[] }>(em, 'DELETE FROM maintenance_windows WHERE id = $1 RETURNING service_ids', [id]);
      if (!row) throw new NotFoundError('Maintenance window', id);
      await this.outbox.publish(em, 'maintenance.deleted', id, { windowId: id });
      await this.timers.cancel(em, releaseKey(id));
      await this.alerts.releaseHeld(em, row.service_ids);
    });
  }

  /** Announces a window's change, and schedules the release of what it holds at its end. */
  private async announce(em: EntityManager, w: Row): Promise<MaintenanceWindowView> {
    await this.timers.schedule(em, RELEASE, releaseKey(w.id), w.ends_at, { serviceIds: w.service_ids });
    await this.outbox.publish(em, 'maintenance.upserted', w.id, {
      windowId: w.id,
      serviceIds: w.service_ids,
      startsAt: w.starts_at.toISOString(),
      endsAt: w.ends_at.toISOString(),
      description: w.description,
    });
    return view(w, this.clock.now());
  }

  private async load(em: EntityManager, id: string, lock = false): Promise<Row> {
    const [row] = await queryRows<Row>(em, `SELECT * FROM maintenance_windows WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (!row) throw new NotFoundError('Maintenance window', id);
    return row;
  }
}

function view(r: Row, now: Date): MaintenanceWindowView {
  return {
    id: r.id,
    serviceIds: r.service_ids,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    description: r.description,
    createdBy: r.created_by,
    active: isActive({ startsAt: r.starts_at, endsAt: r.ends_at }, now),
  };
}

function dedupe(ids: string[]): string[] {
  return [...new Set(ids)];
}
