import { Controller, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CommonEnv } from '#libs/config';
import type { EventData } from '#libs/contracts';
import { MESSAGING_MIGRATIONS, OnEvent, TimerRunner, type EventContext } from '#libs/messaging';
import type { ServiceDefinition } from '#libs/platform';

/**
 * A tiny service for testing the messaging library through its real Nest wiring: it records an
 * "effect" row for every alert.triggered it handles (no unique constraint, so a double effect
 * would show), fails on purpose for some payloads, and counts fired timers.
 */
export const failures = new Map<string, number>();

@Controller()
class ProbeHandlers {
  @OnEvent('alert.triggered')
  async onAlert(@Payload() data: EventData<'alert.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    if (data.summary === 'poison') throw new Error('this alert always fails');
    if (data.summary.startsWith('flaky')) {
      const n = (failures.get(data.alertId) ?? 0) + 1;
      failures.set(data.alertId, n);
      if (n < 3) throw new Error(`flaky failure ${n}`);
    }
    await ctx.manager.query('INSERT INTO effects (event_id, alert_id, summary) VALUES ($1, $2, $3)', [ctx.envelope.id, data.alertId, data.summary]);
  }
}

@Injectable()
class ProbeTimers implements OnModuleInit {
  constructor(private readonly runner: TimerRunner) {}
  onModuleInit(): void {
    this.runner.register('probe', async (timer, em) => {
      await em.query('INSERT INTO timer_effects (key, fired_at) VALUES ($1, now())', [timer.key]);
    });
  }
}

@Module({ controllers: [ProbeHandlers], providers: [ProbeTimers] })
class ProbeModule {}

class ProbeTables1764200000001 implements MigrationInterface {
  name = 'ProbeTables1764200000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE effects (id serial PRIMARY KEY, event_id uuid NOT NULL, alert_id uuid NOT NULL, summary text NOT NULL)');
    await q.query('CREATE TABLE timer_effects (id serial PRIMARY KEY, key text NOT NULL, fired_at timestamptz NOT NULL)');
  }
  async down(): Promise<void> {}
}

export const probeService: ServiceDefinition<typeof CommonEnv> = {
  name: 'probe',
  env: CommonEnv,
  module: () => ProbeModule,
  entities: [],
  migrations: [...MESSAGING_MIGRATIONS, ProbeTables1764200000001],
  consumes: ['alerts'],
};
