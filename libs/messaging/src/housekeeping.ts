import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '#libs/clock';
import type { TimerRunner, Timers } from './timers.js';

const DAY_MS = 86_400_000;

export interface DailyJob {
  /** The timer's kind and key (one timer per database, whatever the number of instances). */
  kind: string;
  key: string;
  /** The work, in the timer's transaction; `now` is the clock's time when it runs. */
  run: (em: EntityManager, now: Date) => Promise<void>;
}

/**
 * Jobs that run once a day as recurring durable timers: first an hour after the service first
 * starts, then a day after each run, in whichever instance claims the timer. Pruning old rows is
 * the usual use. Every service can inject it.
 */
export class DailyJobs {
  constructor(
    private readonly runner: TimerRunner,
    private readonly timers: Timers,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async schedule(job: DailyJob): Promise<void> {
    this.runner.register(job.kind, async (_timer, em) => {
      const now = this.clock.now();
      await job.run(em, now);
      await this.timers.schedule(em, job.kind, job.key, new Date(now.getTime() + DAY_MS));
    });
    await this.dataSource.transaction((em) => this.timers.scheduleIfAbsent(em, job.kind, job.key, new Date(this.clock.now().getTime() + 3_600_000)));
  }
}

/**
 * processed_messages only needs to outlive Kafka's retention (7 days by default): after that no
 * copy of a message can be redelivered. Pruned daily, keeping 14 days.
 */
export function registerHousekeeping(daily: DailyJobs, keepDays = 14): Promise<void> {
  return daily.schedule({
    kind: 'housekeeping.prune-processed',
    key: 'housekeeping:prune-processed',
    run: async (em, now) => {
      await em.query('DELETE FROM processed_messages WHERE processed_at < $1', [new Date(now.getTime() - keepDays * DAY_MS)]);
    },
  });
}
