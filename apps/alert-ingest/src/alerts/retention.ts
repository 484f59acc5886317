import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { TimerRunner, Timers } from '#libs/messaging';

const PRUNE = 'ingest.prune';
const KEY = 'ingest:prune';
const DAY = 86400_000;

/**
 * Delivery ids only need to outlive senders' retries (SNS retries for hours, not days) and
 * Opsgenie request records are looked up right after the request: both are pruned daily by a
 * recurring durable timer, keeping 14 and 7 days.
 */
@Injectable()
export class Retention implements OnApplicationBootstrap {
  constructor(
    private readonly runner: TimerRunner,
    private readonly timers: Timers,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.runner.register(PRUNE, async (_timer, em) => {
      const now = this.clock.now().getTime();
      await em.query('DELETE FROM deliveries WHERE received_at < $1', [new Date(now - 14 * DAY)]);
      await em.query('DELETE FROM ingest_requests WHERE created_at < $1', [new Date(now - 7 * DAY)]);
      await this.timers.schedule(em, PRUNE, KEY, new Date(now + DAY));
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.db.transaction((em) => this.timers.scheduleIfAbsent(em, PRUNE, KEY, new Date(this.clock.now().getTime() + 3600_000)));
  }
}
