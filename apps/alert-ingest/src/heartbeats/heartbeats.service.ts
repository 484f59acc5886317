import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { TimerRunner, Timers, type Timer } from '#libs/messaging';
import { AlertWriter } from '../alerts/alert-writer.js';
import type { NormalizedEvent, Severity } from '../alerts/normalized.js';
import type { KeyedIntegration } from '../integrations/integration-keys.js';

export const HEARTBEAT_TIMER = 'heartbeat.expired';
const timerKey = (integrationId: string): string => `heartbeat:${integrationId}`;
/** The dedup key of the alert a missed heartbeat opens: one open alert per heartbeat. */
export const heartbeatDedupKey = (integrationId: string): string => `heartbeat:${integrationId}`;

export interface HeartbeatView {
  integrationId: string;
  serviceId: string;
  name: string;
  enabled: boolean;
  intervalSeconds: number;
  status: 'waiting' | 'up' | 'expired';
  lastPingAt: string | null;
  expiredAt: string | null;
}

interface HeartbeatRow {
  id: string;
  service_id: string;
  name: string;
  enabled: boolean;
  config: { intervalSeconds: number; alertSummary?: string; defaultSeverity?: Severity };
  status: 'waiting' | 'up' | 'expired';
  last_ping_at: Date | null;
  expired_at: Date | null;
}

/**
 * Heartbeats: a job pings within every interval. The deadline is a durable timer moved by each
 * ping; when it fires, the heartbeat is expired and an alert opens on its service; the next ping
 * resolves it. A heartbeat waits for its first ping before it can expire (as GoAlert's do).
 *
 * Lock order, the same in a ping and in the expiry: the timer row, then the heartbeat row, then
 * the alert. So a ping racing an expiry waits for it and then resolves what it opened.
 */
@Injectable()
export class HeartbeatsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly timers: Timers,
    private readonly runner: TimerRunner,
    private readonly writer: AlertWriter,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.runner.register<{ integrationId: string }>(HEARTBEAT_TIMER, (timer, em) => this.expire(timer, em));
  }

  async onCreated(em: EntityManager, integrationId: string): Promise<void> {
    await em.query(`INSERT INTO heartbeats (integration_id) VALUES ($1) ON CONFLICT DO NOTHING`, [integrationId]);
  }

  /** A disabled heartbeat cannot expire; enabled again, it waits for its next ping. */
  async onEnabledChanged(em: EntityManager, integrationId: string, enabled: boolean): Promise<void> {
    if (!enabled) await this.timers.cancel(em, timerKey(integrationId));
    else await em.query(`UPDATE heartbeats SET status = 'waiting' WHERE integration_id = $1 AND status = 'up'`, [integrationId]);
  }

  /** A new interval counts from the last ping. */
  async onReconfigured(em: EntityManager, integrationId: string): Promise<void> {
    const [row] = await this.rows(em, 'i.id = $1', [integrationId]);
    if (row?.status !== 'up' || !row.last_ping_at) return;
    const due = new Date(Math.max(this.clock.now().getTime(), row.last_ping_at.getTime() + row.config.intervalSeconds * 1000));
    await this.timers.schedule(em, HEARTBEAT_TIMER, timerKey(integrationId), due, { integrationId });
  }

  /** Records a ping: moves the deadline and resolves the alert a missed interval opened. */
  async ping(integration: KeyedIntegration): Promise<void> {
    const interval = Number((integration.config as { intervalSeconds?: number }).intervalSeconds);
    await this.db.transaction(async (em) => {
      const now = this.clock.now();
      await this.timers.schedule(em, HEARTBEAT_TIMER, timerKey(integration.id), new Date(now.getTime() + interval * 1000), { integrationId: integration.id });
      await em.query(`INSERT INTO heartbeats (integration_id) VALUES ($1) ON CONFLICT DO NOTHING`, [integration.id]);
      const [before] = await queryRows<{ status: string }>(em, `SELECT status FROM heartbeats WHERE integration_id = $1 FOR UPDATE`, [integration.id]);
      await em.query(`UPDATE heartbeats SET status = 'up', last_ping_at = $2, expired_at = NULL WHERE integration_id = $1`, [integration.id, now]);
      if (before?.status !== 'up') {
        await this.writer.applyIn(em, [
          { integration, events: [heartbeatEvent('resolve', integration.id, integration.name, integration.config as HeartbeatRow['config'], null)] },
        ]);
      }
    });
  }

  private async expire(timer: Timer<{ integrationId: string }>, em: EntityManager): Promise<void> {
    const [hb] = await this.rows(em, `i.id = $1 AND i.type = 'heartbeat'`, [timer.payload.integrationId]);
    if (!hb || !hb.enabled) return;
    const updated = await queryRows(em, `UPDATE heartbeats SET status = 'expired', expired_at = $2 WHERE integration_id = $1 AND status = 'up' RETURNING 1`, [
      hb.id,
      this.clock.now(),
    ]);
    if (updated.length === 0) return;
    await this.writer.applyIn(em, [
      {
        integration: { id: hb.id, serviceId: hb.service_id, type: 'heartbeat' },
        events: [heartbeatEvent('trigger', hb.id, hb.name, hb.config, hb.last_ping_at)],
      },
    ]);
  }

  async list(serviceId?: string): Promise<HeartbeatView[]> {
    const rows = await this.rows(this.db.manager, `i.type = 'heartbeat'${serviceId ? ' AND i.service_id = $1' : ''}`, serviceId ? [serviceId] : []);
    return rows.map((r) => ({
      integrationId: r.id,
      serviceId: r.service_id,
      name: r.name,
      enabled: r.enabled,
      intervalSeconds: r.config.intervalSeconds,
      status: r.status,
      lastPingAt: r.last_ping_at?.toISOString() ?? null,
      expiredAt: r.expired_at?.toISOString() ?? null,
    }));
  }

  /** The enabled heartbeat of a service by name (Opsgenie-style pings). */
  async findByName(serviceId: string, name: string): Promise<KeyedIntegration | undefined> {
    const [r] = await this.rows(this.db.manager, `i.type = 'heartbeat' AND i.enabled AND i.service_id = $1 AND i.name = $2`, [serviceId, name]);
    return r ? { id: r.id, serviceId: r.service_id, type: 'heartbeat', name: r.name, config: r.config } : undefined;
  }

  private async rows(em: EntityManager, where: string, params: unknown[]): Promise<HeartbeatRow[]> {
    return queryRows<HeartbeatRow>(
      em,
      `SELECT i.id, i.service_id, i.name, i.enabled, i.config, coalesce(h.status, 'waiting') AS status, h.last_ping_at, h.expired_at
       FROM integrations i LEFT JOIN heartbeats h ON h.integration_id = i.id WHERE ${where} ORDER BY i.created_at`,
      params,
    );
  }
}

function heartbeatEvent(action: 'trigger' | 'resolve', id: string, name: string, config: HeartbeatRow['config'], lastPingAt: Date | null): NormalizedEvent {
  return {
    action,
    dedupKey: heartbeatDedupKey(id),
    summary: config.alertSummary ?? `${name} is expired`,
    severity: config.defaultSeverity ?? 'critical',
    source: 'klaxon-heartbeat',
    details: { heartbeat: name, intervalSeconds: config.intervalSeconds, lastPingAt: lastPingAt?.toISOString() ?? null },
    links: [],
    labels: { heartbeat: name },
  };
}
