import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '#libs/database';
import { Outbox, TimerRunner, type Timer } from '#libs/messaging';
import { DEDUP_TIMER } from './alert-writer.js';

/**
 * Reports repeats of an alert (alert.deduplicated with the latest count) at most once per
 * INGEST_DEDUP_REPORT_SECONDS: the first repeat schedules a durable timer, later ones find it
 * there. The timer reads the alert without locking it, so it never waits on the write path.
 */
@Injectable()
export class DedupReports implements OnModuleInit {
  constructor(
    private readonly runner: TimerRunner,
    private readonly outbox: Outbox,
  ) {}

  onModuleInit(): void {
    this.runner.register<{ alertId: string }>(DEDUP_TIMER, (timer, em) => this.report(timer, em));
  }

  private async report(timer: Timer<{ alertId: string }>, em: EntityManager): Promise<void> {
    const [a] = await queryRows<{ id: string; service_id: string; integration_id: string | null; dedup_key: string; count: number; last_seen_at: Date }>(
      em,
      'SELECT id, service_id, integration_id, dedup_key, count, last_seen_at FROM alerts WHERE id = $1',
      [timer.payload.alertId],
    );
    if (!a) return;
    await this.outbox.publish(em, 'alert.deduplicated', a.id, {
      alertId: a.id,
      serviceId: a.service_id,
      integrationId: a.integration_id,
      dedupKey: a.dedup_key,
      count: a.count,
      lastSeenAt: new Date(a.last_seen_at).toISOString(),
    });
  }
}
