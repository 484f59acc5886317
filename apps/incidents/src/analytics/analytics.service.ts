import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import type { AnalyticsGrouping, ResponseTimesQuery, SlaQuery, VolumeQuery } from './analytics.dto.js';

/** Seconds; null when no incident in the group has the measure. */
export interface Distribution {
  mean: number | null;
  p50: number | null;
  p90: number | null;
}

export interface ResponseTimesRow {
  key: string | null;
  name: string | null;
  incidents: number;
  acknowledged: number;
  resolved: number;
  /** Mean time to acknowledge: creation → first acknowledgement. */
  mtta: Distribution;
  /** Mean time to resolve: creation → resolution. */
  mttr: Distribution;
}

export interface VolumeRow {
  serviceId: string;
  name: string | null;
  incidents: number;
  alerts: number;
  /** Mean alerts per incident (noise): how many alerts each incident grouped. */
  alertsPerIncident: number | null;
  maxAlertsPerIncident: number | null;
}

export interface GoalAttainment {
  /** Incidents whose clock had a target. */
  total: number;
  met: number;
  breached: number;
  running: number;
  /** met / (met + breached), null when none finished. */
  attainment: number | null;
}

export interface SlaRow {
  key: string | null;
  name: string | null;
  acknowledge: GoalAttainment;
  resolve: GoalAttainment;
}

interface Window {
  from: Date;
  to: Date;
}

const DEFAULT_DAYS = 30;

/**
 * Incident analytics, computed by SQL over the records (no copies to keep in step): MTTA and MTTR
 * (mean, median, 90th percentile) per service, team, priority, urgency or period; incidents and
 * alerts per service and alerts per incident; SLA attainment. Incidents count in the period they
 * were opened in (`created_at`, indexed alone and per service and team); the default period is
 * the last 30 days.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  window(q: { from?: Date; to?: Date }): Window {
    const to = q.to ?? this.clock.now();
    return { from: q.from ?? new Date(to.getTime() - DEFAULT_DAYS * 86400_000), to };
  }

  async responseTimes(q: ResponseTimesQuery): Promise<{ from: Date; to: Date; groupBy: AnalyticsGrouping; rows: ResponseTimesRow[] }> {
    const w = this.window(q);
    const params: unknown[] = [w.from, w.to];
    const where = this.scope(q, params);
    const group = this.grouping(q.groupBy, params, q.timeZone);
    // float8, not extract's numeric: sorting and averaging doubles is several times cheaper.
    const tta = 'extract(epoch FROM i.first_acknowledged_at - i.created_at)::float8';
    const ttr = 'extract(epoch FROM i.resolved_at - i.created_at)::float8';
    const rows: Record<string, string | number | null | (number | null)[]>[] = await this.db.query(
      `SELECT ${group.key} AS key, ${group.name} AS name, count(*)::int AS incidents,
         count(i.first_acknowledged_at)::int AS acknowledged, count(i.resolved_at)::int AS resolved,
         avg(${tta}) AS mtta_mean, avg(${ttr}) AS mttr_mean,
         -- One sort per measure gives both percentiles (linear interpolation, as percentile_cont does).
         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY ${tta}) AS mtta_pct,
         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY ${ttr}) AS mttr_pct
       FROM incidents i ${group.join}
       WHERE ${where}
       GROUP BY 1, 2 ORDER BY ${group.order}`,
      params,
    );
    return {
      ...w,
      groupBy: q.groupBy,
      rows: rows.map((r) => ({
        key: r.key === null ? null : String(r.key),
        name: (r.name as string | null) ?? null,
        incidents: Number(r.incidents),
        acknowledged: Number(r.acknowledged),
        resolved: Number(r.resolved),
        mtta: { mean: num(r.mtta_mean), p50: num((r.mtta_pct as number[] | null)?.[0]), p90: num((r.mtta_pct as number[] | null)?.[1]) },
        mttr: { mean: num(r.mttr_mean), p50: num((r.mttr_pct as number[] | null)?.[0]), p90: num((r.mttr_pct as number[] | null)?.[1]) },
      })),
    };
  }

  /** Incidents and alerts per service, and how many alerts each incident grouped. */
  async volume(q: VolumeQuery): Promise<{ from: Date; to: Date; rows: VolumeRow[] }> {
    const w = this.window(q);
    const params: unknown[] = [w.from, w.to];
    const where = this.scope(q, params);
    // Alerts are counted when they arrived (maintenance alerts too: they are noise as well).
    const alertScope = this.scope(q, params, 'a');
    const rows: { service_id: string; name: string | null; incidents: number; alerts: number; per_incident: string | null; max_per_incident: number | null }[] =
      await this.db.query(
        `WITH inc AS (
         SELECT i.service_id, count(*)::int AS incidents, avg(i.alert_count) AS per_incident, max(i.alert_count)::int AS max_per_incident
         FROM incidents i WHERE ${where} GROUP BY 1),
       al AS (SELECT a.service_id, count(*)::int AS alerts FROM incident_alerts a WHERE ${alertScope} GROUP BY 1)
       SELECT coalesce(inc.service_id, al.service_id) AS service_id, s.name, coalesce(inc.incidents, 0) AS incidents,
         coalesce(al.alerts, 0) AS alerts, inc.per_incident, inc.max_per_incident
       FROM inc FULL JOIN al ON al.service_id = inc.service_id
       LEFT JOIN services s ON s.id = coalesce(inc.service_id, al.service_id)
       ORDER BY 3 DESC, 4 DESC, 1`,
        params,
      );
    return {
      ...w,
      rows: rows.map((r) => ({
        serviceId: r.service_id,
        name: r.name,
        incidents: r.incidents,
        alerts: r.alerts,
        alertsPerIncident: num(r.per_incident),
        maxAlertsPerIncident: r.max_per_incident,
      })),
    };
  }

  /** SLA attainment: of the goals that finished, the share met. */
  async sla(q: SlaQuery): Promise<{ from: Date; to: Date; groupBy: string; rows: SlaRow[] }> {
    const w = this.window(q);
    const params: unknown[] = [w.from, w.to];
    const where = this.scope(q, params);
    const group = this.grouping(q.groupBy, params, 'UTC');
    const rows: Record<string, string | number | null>[] = await this.db.query(
      `SELECT ${group.key} AS key, ${group.name} AS name, c.goal,
         count(*)::int AS total,
         count(*) FILTER (WHERE c.breached_at IS NOT NULL)::int AS breached,
         count(*) FILTER (WHERE c.breached_at IS NULL AND c.stopped_at IS NOT NULL)::int AS met,
         count(*) FILTER (WHERE c.breached_at IS NULL AND c.stopped_at IS NULL)::int AS running
       FROM incidents i JOIN incident_slas c ON c.incident_id = i.id AND c.target_seconds IS NOT NULL ${group.join}
       WHERE ${where}
       GROUP BY 1, 2, 3 ORDER BY 1, 3`,
      params,
    );
    const byKey = new Map<string, SlaRow>();
    const empty = (): GoalAttainment => ({ total: 0, met: 0, breached: 0, running: 0, attainment: null });
    for (const r of rows) {
      const k = String(r.key);
      const row = byKey.get(k) ?? {
        key: r.key === null ? null : String(r.key),
        name: (r.name as string | null) ?? null,
        acknowledge: empty(),
        resolve: empty(),
      };
      const met = Number(r.met);
      const breached = Number(r.breached);
      row[r.goal as 'acknowledge' | 'resolve'] = {
        total: Number(r.total),
        met,
        breached,
        running: Number(r.running),
        attainment: met + breached ? met / (met + breached) : null,
      };
      byKey.set(k, row);
    }
    return { ...w, groupBy: q.groupBy, rows: [...byKey.values()] };
  }

  /** The WHERE clause of the period, service and team, over incidents (`i`) or incident_alerts (`a`). */
  private scope(q: { serviceId?: string; teamId?: string }, params: unknown[], alias: 'i' | 'a' = 'i'): string {
    const clauses = [`${alias}.created_at >= $1`, `${alias}.created_at < $2`];
    if (q.serviceId) {
      params.push(q.serviceId);
      clauses.push(`${alias}.service_id = $${params.length}`);
    }
    if (q.teamId) {
      params.push(q.teamId);
      // Incidents keep the team their service had when they opened; alerts follow the service.
      clauses.push(alias === 'i' ? `i.team_id = $${params.length}` : `a.service_id IN (SELECT id FROM services WHERE team_id = $${params.length})`);
    }
    return clauses.join(' AND ');
  }

  private grouping(groupBy: AnalyticsGrouping, params: unknown[], timeZone: string): { key: string; name: string; join: string; order: string } {
    switch (groupBy) {
      case 'none':
        return { key: 'NULL::text', name: 'NULL::text', join: '', order: '1' };
      case 'service':
        return { key: 'i.service_id', name: 'sv.name', join: 'LEFT JOIN services sv ON sv.id = i.service_id', order: 'incidents DESC, 2, 1' };
      case 'team':
        return { key: 'i.team_id', name: 'tm.name', join: 'LEFT JOIN teams tm ON tm.id = i.team_id', order: 'incidents DESC, 2, 1' };
      case 'priority':
        return { key: 'i.priority', name: 'i.priority', join: '', order: '1' };
      case 'urgency':
        return { key: 'i.urgency', name: 'i.urgency', join: '', order: '1' };
      default: {
        params.push(timeZone);
        const start = `date_trunc('${groupBy}', i.created_at AT TIME ZONE $${params.length})`;
        return { key: `to_char(${start}, 'YYYY-MM-DD')`, name: `to_char(${start}, 'YYYY-MM-DD')`, join: '', order: '1' };
      }
    }
  }
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return Math.round(Number(v) * 1000) / 1000;
}
