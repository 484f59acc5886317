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
 * A job that runs once a day as a recurring durable timer: first an hour after the service first
 * starts, then a day after each run, in whichever instance claims the timer. Pruning old rows is
 * the usual use.
 */
export async function scheduleDaily(runner: TimerRunner, timers: Timers, dataSource: DataSource, clock: Clock, job: DailyJob): Promise<void> {
  runner.register(job.kind, async (_timer, em) => {
    const now = clock.now();
    await job.run(em, now);
    await timers.schedule(em, job.kind, job.key, new Date(now.getTime() + DAY_MS));
  });
  await dataSource.transaction((em) => timers.scheduleIfAbsent(em, job.kind, job.key, new Date(clock.now().getTime() + 3_600_000)));
}

/**
 * processed_messages only needs to outlive Kafka's retention (7 days by default): after that no
 * copy of a message can be redelivered. Pruned daily, keeping 14 days.
 */
export function registerHousekeeping(runner: TimerRunner, timers: Timers, dataSource: DataSource, clock: Clock, keepDays = 14): Promise<void> {
  return scheduleDaily(runner, timers, dataSource, clock, {
    kind: 'housekeeping.prune-processed',
    key: 'housekeeping:prune-processed',
    run: async (em, now) => {
      await em.query('DELETE FROM processed_messages WHERE processed_at < $1', [new Date(now.getTime() - keepDays * DAY_MS)]);
    },
  });
}
