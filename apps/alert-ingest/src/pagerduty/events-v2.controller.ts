import { Body, Controller, Headers, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '#libs/auth';
import { answerWith } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { ChangeEventsService } from '../changes/change-events.service.js';
import { enqueueV2, pdError } from './pagerduty.intake.js';
import { parseChangeEvent } from './events-v2.js';

/** PagerDuty Events API v2, drop-in: point a sender's PagerDuty URL at Klaxon and keep its routing key format. */
@Controller('v2')
@Public()
@UseFilters(senderErrorFilter(pdError))
export class EventsV2Controller {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly ingest: IngestService,
    private readonly changes: ChangeEventsService,
  ) {}

  @Post('enqueue')
  @HttpCode(202)
  async enqueue(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return answerWith(res, await enqueueV2(this.keys, this.ingest, body, idempotencyKey));
  }

  /** Change events (deploys, config changes): recorded on the service, never page anyone. */
  @Post('change/enqueue')
  @HttpCode(202)
  async changeEnqueue(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    const parsed = parseChangeEvent(body);
    if (!parsed.ok) {
      res.status(400);
      return pdError(400, 'Change event object is invalid', parsed.errors);
    }
    const integration = await this.keys.authenticate(parsed.event.routing_key, ['events-api-v2'], 'routing_key');
    await this.changes.record(integration, parsed.event);
    return { status: 'success', message: 'Change event processed' };
  }
}
