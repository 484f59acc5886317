import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DailyJobs } from '#libs/messaging';

const DAY = 86400_000;

/**
 * Delivery ids only need to outlive senders' retries (SNS retries for hours, not days) and
 * Opsgenie request records are looked up right after the request: both are pruned daily by a
 * recurring durable timer, keeping 14 and 7 days.
 */
@Injectable()
export class Retention implements OnApplicationBootstrap {
  constructor(private readonly daily: DailyJobs) {}

  onApplicationBootstrap(): Promise<void> {
    return this.daily.schedule({
      kind: 'ingest.prune',
      key: 'ingest:prune',
      run: async (em, now) => {
        await em.query('DELETE FROM deliveries WHERE received_at < $1', [new Date(now.getTime() - 14 * DAY)]);
        await em.query('DELETE FROM ingest_requests WHERE created_at < $1', [new Date(now.getTime() - 7 * DAY)]);
      },
    });
  }
}
