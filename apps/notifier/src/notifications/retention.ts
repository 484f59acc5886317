import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG } from '#libs/config';
import { DailyJobs } from '#libs/messaging';
import type { NotifierConfig } from '../config.js';

const DAY = 86400_000;

/**
 * A recurring durable timer (daily) that keeps notifier's tables to what is still useful:
 * finished notifications and resolved incidents for NOTIFICATION_RETENTION_DAYS (the incident
 * timeline in incidents keeps the history), reply codes a week after their incidents closed, used
 * or expired links a day, SMS replies and the capture inbox 30 days. Opt-outs are kept.
 */
@Injectable()
export class Retention implements OnApplicationBootstrap {
  constructor(
    private readonly daily: DailyJobs,
    @Inject(CONFIG) private readonly config: NotifierConfig,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return this.daily.schedule({
      kind: 'notifier.prune',
      key: 'notifier:prune',
      run: async (em, at) => {
        const now = at.getTime();
        const keep = new Date(now - this.config.NOTIFICATION_RETENTION_DAYS * DAY);
        await em.query(`DELETE FROM notifications WHERE status IN ('sent', 'delivered', 'failed', 'undelivered', 'cancelled', 'unknown') AND updated_at < $1`, [
          keep,
        ]);
        await em.query(
          `DELETE FROM reply_codes rc WHERE last_sent_at < $1
               AND NOT EXISTS (SELECT 1 FROM unnest(rc.incident_ids) AS i(id) JOIN incidents x ON x.id = i.id WHERE x.status <> 'resolved')`,
          [new Date(now - 7 * DAY)],
        );
        await em.query(`DELETE FROM incidents WHERE status = 'resolved' AND changed_at < $1`, [keep]);
        await em.query('DELETE FROM action_links WHERE expires_at < $1', [new Date(now - DAY)]);
        await em.query('DELETE FROM inbound_messages WHERE received_at < $1', [new Date(now - 30 * DAY)]);
        await em.query('DELETE FROM inbox_messages WHERE created_at < $1', [new Date(now - 30 * DAY)]);
      },
    });
  }
}
