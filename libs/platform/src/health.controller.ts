import {
  Controller,
  ForbiddenException,
  Get,
  Header,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Body } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { PRINCIPAL_CHECK, Public, type PrincipalCheck } from '#libs/auth';
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

/**
 * Prometheus metrics. Open in local use; with NODE_ENV=production, or wherever METRICS_TOKEN is set,
 * a scraper sends `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization: {credentials: …}`)
 * or an admin token: the metrics say what the system is doing and to whom.
 */
@Controller()
@Public()
export class MetricsController {
  private readonly scrapeDigest?: Buffer;
  private readonly open: boolean;

  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    @Inject(PRINCIPAL_CHECK) private readonly principals: PrincipalCheck,
  ) {
    const { METRICS_TOKEN, NODE_ENV } = runtime.config;
    if (METRICS_TOKEN) this.scrapeDigest = sha256(METRICS_TOKEN);
    this.open = !METRICS_TOKEN && NODE_ENV !== 'production';
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.open) await this.authorize(req.headers.authorization);
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }

  private async authorize(header: string | undefined): Promise<void> {
    const token = header && /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new UnauthorizedException('Metrics need a token here: send "Authorization: Bearer <METRICS_TOKEN or an admin token>"');
    if (this.scrapeDigest && timingSafeEqual(sha256(token), this.scrapeDigest)) return;
    const verified = await this.runtime.tokens.verify(token);
    const principal = 'error' in verified || verified.userId === null ? verified : await this.principals.check(verified);
    if ('error' in principal) throw new UnauthorizedException(`Bearer token rejected: ${principal.error}`);
    if (principal.role !== 'admin') throw new ForbiddenException('Metrics need METRICS_TOKEN or the admin role');
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
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
