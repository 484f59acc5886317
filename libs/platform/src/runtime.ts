import type { Admin, Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { TokenService } from '#libs/auth';
import type { Clock } from '#libs/clock';
import type { CommonConfig } from '#libs/config';
import type { Metrics } from '#libs/observability';
import { errorMessage, type DailyJobs, type Outbox, type OutboxRelay, type PgListener, type TimerRunner, type Timers } from '#libs/messaging';

/** Everything a running service holds on to, built once at boot and shared with its Nest modules. */
export class Runtime {
  constructor(
    readonly service: string,
    readonly config: CommonConfig,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly metrics: Metrics,
    readonly dataSource: DataSource,
    readonly kafka: Kafka,
    readonly producer: Producer,
    readonly admin: Admin,
    readonly listener: PgListener,
    readonly outbox: Outbox,
    readonly timers: Timers,
    readonly timerRunner: TimerRunner,
    readonly relay: OutboxRelay,
    readonly tokens: TokenService,
    readonly daily: DailyJobs,
  ) {}

  async readiness(): Promise<Record<string, string>> {
    const [database, kafka] = await Promise.all([
      check(async () => {
        await this.dataSource.query('SELECT 1');
      }),
      check(async () => {
        await this.admin.describeCluster();
      }),
    ]);
    return { database, kafka };
  }
}

async function check(fn: () => Promise<void>, timeoutMs = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `unreachable (${errorMessage(err)})`;
  } finally {
    clearTimeout(timer);
  }
}
