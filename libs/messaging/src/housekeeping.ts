import type { DataSource } from 'typeorm';
import type { Clock } from '#libs/clock';
import type { TimerRunner, Timers } from './timers.js';

const PRUNE = 'housekeeping.prune-processed';
const KEY = 'housekeeping:prune-processed';

/**
 * processed_messages only needs to outlive Kafka's retention (7 days by default): after that no
 * copy of a message can be redelivered. A recurring durable timer prunes it daily, keeping 14 days.
 */
export function registerHousekeeping(runner: TimerRunner, timers: Timers, dataSource: DataSource, clock: Clock, keepDays = 14): Promise<void> {
  runner.register(PRUNE, async (_timer, em) => {
    await em.query('DELETE FROM processed_messages WHERE processed_at < $1', [new Date(clock.now().getTime() - keepDays * 86400_000)]);
    await timers.schedule(em, PRUNE, KEY, new Date(clock.now().getTime() + 86400_000));
  });
  return dataSource.transaction(async (em) => {
    await timers.scheduleIfAbsent(em, PRUNE, KEY, new Date(clock.now().getTime() + 3600_000));
  });
}
