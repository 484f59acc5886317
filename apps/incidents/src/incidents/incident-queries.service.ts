import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { InvalidInputError, NotFoundError } from '#libs/platform';
import type { SlaView } from '../sla/sla.js';
import { SlaService } from '../sla/sla.service.js';
import { Incident, TimelineEntry } from './incident.entity.js';
import type { IncidentStatus, Priority } from './lifecycle.js';

/** An incident as the API shows it: the record, its service's name, who is assigned, and its SLA status. */
export type IncidentView = Incident & {
  serviceName: string | null;
  assignedTo: { userId: string; name: string | null }[];
  slas: SlaView[];
};

export interface IncidentAlert {
  alertId: string;
  dedupKey: string;
  summary: string;
  severity: string;
  status: 'triggered' | 'resolved';
  /** How often the monitor sent it: its first trigger and its repeats, as last reported. */
  count: number;
  createdAt: Date;
  lastSeenAt: Date | null;
  resolvedAt: Date | null;
}

export interface IncidentFilter {
  status?: IncidentStatus[];
  serviceId?: string;
  teamId?: string;
  priority?: Priority[];
  urgency?: 'high' | 'low';
  major?: boolean;
  assignee?: string;
  problemId?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Opaque cursors: the position after which the next page starts. */
export function encodeCursor(position: number | string): string {
  return Buffer.from(JSON.stringify({ after: String(position) })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && /^\d+$/.test(parsed.after)) return parsed.after;
  } catch {
    // fall through
  }
  throw new InvalidInputError('cursor is not valid: pass the nextCursor of a previous page unchanged');
}

/** Reads incidents and timelines for the API (no locks, no writes). */
@Injectable()
export class IncidentQueries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly slas: SlaService,
  ) {}

  /** Newest first, keyset-paginated on the incident number. */
  async list(f: IncidentFilter): Promise<Page<IncidentView>> {
    const qb = this.db
      .getRepository(Incident)
      .createQueryBuilder('i')
      .orderBy('i.number', 'DESC')
      .limit(f.limit + 1);
    if (f.status?.length) qb.andWhere('i.status IN (:...status)', { status: f.status });
    if (f.serviceId) qb.andWhere('i.service_id = :serviceId', { serviceId: f.serviceId });
    if (f.teamId) qb.andWhere('i.team_id = :teamId', { teamId: f.teamId });
    if (f.priority?.length) qb.andWhere('i.priority IN (:...priority)', { priority: f.priority });
    if (f.urgency) qb.andWhere('i.urgency = :urgency', { urgency: f.urgency });
    if (f.major !== undefined) qb.andWhere('i.major = :major', { major: f.major });
    if (f.assignee) qb.andWhere(':assignee = ANY(i.assignees)', { assignee: f.assignee });
    if (f.problemId) qb.andWhere('i.problem_id = :problemId', { problemId: f.problemId });
    if (f.from) qb.andWhere('i.created_at >= :from', { from: f.from });
    if (f.to) qb.andWhere('i.created_at < :to', { to: f.to });
    if (f.cursor) qb.andWhere('i.number < :after', { after: Number(decodeCursor(f.cursor)) });
    const rows = await qb.getMany();
    const page = rows.slice(0, f.limit);
    return { items: await this.views(this.db.manager, page), nextCursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]!.number) : null };
  }

  async get(id: string, em: EntityManager = this.db.manager): Promise<IncidentView> {
    const incident = await em.findOne(Incident, { where: { id } });
    if (!incident) throw new NotFoundError('Incident', id);
    return (await this.views(em, [incident]))[0]!;
  }

  async views(em: EntityManager, incidents: Incident[]): Promise<IncidentView[]> {
    if (incidents.length === 0) return [];
    const ids = incidents.map((i) => i.id);
    const serviceIds = [...new Set(incidents.map((i) => i.serviceId))];
    const userIds = [...new Set(incidents.flatMap((i) => i.assignees))];
    const [services, users, slas] = await Promise.all([
      em.query<{ id: string; name: string }[]>('SELECT id, name FROM services WHERE id = ANY($1::uuid[])', [serviceIds]),
      userIds.length
        ? em.query<{ id: string; name: string }[]>('SELECT id, name FROM users WHERE id = ANY($1::uuid[])', [userIds])
        : Promise.resolve<{ id: string; name: string }[]>([]),
      this.slas.views(em, ids),
    ]);
    const serviceName = new Map(services.map((s) => [s.id, s.name]));
    const userName = new Map(users.map((u) => [u.id, u.name]));
    return incidents.map((i) => ({
      ...i,
      serviceName: serviceName.get(i.serviceId) ?? null,
      assignedTo: i.assignees.map((userId) => ({ userId, name: userName.get(userId) ?? null })),
      slas: slas.get(i.id) ?? [],
    }));
  }

  /** The alerts grouped into an incident, in the order they arrived. */
  async alerts(id: string): Promise<IncidentAlert[]> {
    const exists = await this.db.getRepository(Incident).existsBy({ id });
    if (!exists) throw new NotFoundError('Incident', id);
    return this.db.query(
      `SELECT alert_id AS "alertId", dedup_key AS "dedupKey", summary, severity, status, count, created_at AS "createdAt",
              coalesce(last_seen_at, created_at) AS "lastSeenAt", resolved_at AS "resolvedAt"
       FROM incident_alerts WHERE incident_id = $1 ORDER BY created_at, alert_id LIMIT 1000`,
      [id],
    );
  }

  /** The timeline, oldest or newest first, keyset-paginated on the entry id. */
  async timeline(id: string, order: 'asc' | 'desc', limit: number, cursor?: string): Promise<Page<TimelineEntry>> {
    const exists = await this.db.getRepository(Incident).existsBy({ id });
    if (!exists) throw new NotFoundError('Incident', id);
    const qb = this.db
      .getRepository(TimelineEntry)
      .createQueryBuilder('t')
      .where('t.incident_id = :id', { id })
      .orderBy('t.id', order === 'asc' ? 'ASC' : 'DESC')
      .limit(limit + 1);
    if (cursor) qb.andWhere(order === 'asc' ? 't.id > :after' : 't.id < :after', { after: decodeCursor(cursor) });
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!.id) : null };
  }
}
