import { Controller, Get, Header, HttpCode, Inject, Post, Res, ServiceUnavailableException } from '@nestjs/common';
import { Body } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { CLOCK, OffsetClock, type Clock } from '#libs/clock';
import type { Metrics } from '#libs/observability';
import { METRICS, RUNTIME } from './tokens.js';
import type { Runtime } from './runtime.js';

@Controller()
@Public()
export class HealthController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  /** The process is up and its event loop answers. */
  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready for traffic: the database answers and Kafka is reachable. */
  @Get('health/ready')
  async ready(): Promise<{ status: 'ready'; checks: Record<string, string> }> {
    const checks = await this.runtime.readiness();
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length) {
      throw new ServiceUnavailableException({ status: 'not ready', message: failing.map(([k, v]) => `${k}: ${v}`).join('; '), checks });
    }
    return { status: 'ready', checks };
  }
}

@Controller()
@Public()
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}

const Advance = z.object({
  ms: z
    .number()
    .int()
    .positive()
    .max(400 * 24 * 3600 * 1000),
});

/** Only mounted when TEST_CLOCK=true and NODE_ENV=test: lets an end-to-end test fast-forward this process. */
@Controller('__test')
@Public()
export class TestClockController {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  @Post('clock/advance')
  @HttpCode(200)
  advance(@Body({ schema: Advance }) body: z.infer<typeof Advance>): { now: string } {
    if (!(this.clock instanceof OffsetClock)) throw new ServiceUnavailableException('this process does not run a test clock');
    return { now: this.clock.advance(body.ms).toISOString() };
  }

  @Get('clock')
  now(): { now: string } {
    return { now: this.clock.now().toISOString() };
  }
}
