import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { queryRows } from '#libs/database';

export interface AlertView {
  id: string;
  serviceId: string;
  integrationId: string | null;
  integrationType: string | null;
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  source: string | null;
  component: string | null;
  group: string | null;
  class: string | null;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
  labels: Record<string, string>;
  inMaintenance: boolean;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

const COLUMNS = `id, service_id AS "serviceId", integration_id AS "integrationId", integration_type AS "integrationType", dedup_key AS "dedupKey",
  status, summary, severity, source, component, "group", class, details, links, labels, in_maintenance AS "inMaintenance", count,
  first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", acknowledged_at AS "acknowledgedAt", resolved_at AS "resolvedAt"`;

export interface AlertFilter {
  serviceId?: string;
  status?: 'open' | 'triggered' | 'acknowledged' | 'resolved';
  dedupKey?: string;
  integrationId?: string;
  limit: number;
  /** Alerts first seen before this (the previous page's last firstSeenAt). */
  before?: Date;
}

/** Reading alerts: the management API and Opsgenie's "get alert". */
@Injectable()
export class AlertsQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(f: AlertFilter): Promise<AlertView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.serviceId) add('service_id = ?', f.serviceId);
    if (f.integrationId) add('integration_id = ?', f.integrationId);
    if (f.dedupKey) add('dedup_key = ?', f.dedupKey);
    if (f.status === 'open') where.push(`status <> 'resolved'`);
    else if (f.status) add('status = ?', f.status);
    if (f.before) add('first_seen_at < ?', f.before);
    params.push(f.limit);
    return queryRows<AlertView>(
      this.db,
      `SELECT ${COLUMNS} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY first_seen_at DESC, id LIMIT $${params.length}`,
      params,
    );
  }

  async get(id: string): Promise<AlertView | undefined> {
    const [row] = await queryRows<AlertView>(this.db, `SELECT ${COLUMNS} FROM alerts WHERE id = $1`, [id]);
    return row;
  }

  /** A service's alert by id, or by dedup key (the open one, else the latest). */
  async find(serviceId: string, by: { id?: string; dedupKey?: string }): Promise<AlertView | undefined> {
    const [row] = by.id
      ? await queryRows<AlertView>(this.db, `SELECT ${COLUMNS} FROM alerts WHERE id = $1 AND service_id = $2`, [by.id, serviceId])
      : await queryRows<AlertView>(
          this.db,
          `SELECT ${COLUMNS} FROM alerts WHERE service_id = $1 AND dedup_key = $2 ORDER BY (status <> 'resolved') DESC, first_seen_at DESC LIMIT 1`,
          [serviceId, by.dedupKey],
        );
    return row;
  }
}
