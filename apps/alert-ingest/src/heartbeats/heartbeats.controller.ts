import { All, Controller, Get, HttpCode, Param, Query, UseFilters } from '@nestjs/common';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { plainError, senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { HeartbeatsService, type HeartbeatView } from './heartbeats.service.js';

/** Pings: GET or POST (any method) to /heartbeats/<key>, from cron jobs, curl or uptime checkers. */
@Controller('heartbeats')
@Public()
@UseFilters(senderErrorFilter(plainError))
export class HeartbeatPingController {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly heartbeats: HeartbeatsService,
  ) {}

  @All(':key')
  @HttpCode(200)
  async ping(@Param('key') key: string): Promise<{ result: string }> {
    const integration = await this.keys.authenticate(key, ['heartbeat'], 'heartbeat key');
    await this.heartbeats.ping(integration);
    return { result: 'PONG - Heartbeat received' };
  }
}

@Controller('api/v1/heartbeats')
export class HeartbeatsController {
  constructor(private readonly heartbeats: HeartbeatsService) {}

  /** Heartbeats (integrations of type "heartbeat") with their state: waiting for a first ping, up, or expired. */
  @Get()
  list(@Query({ schema: z.strictObject({ serviceId: z.uuid().optional() }) }) q: { serviceId?: string }): Promise<HeartbeatView[]> {
    return this.heartbeats.list(q.serviceId);
  }
}
