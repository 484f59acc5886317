import { Body, Controller, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '#libs/auth';
import { answerWith } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { enqueueV1, pdError } from './pagerduty.intake.js';

/** PagerDuty Events API v1 at its own path, for senders configured with a service key. */
@Controller('generic/2010-04-15')
@Public()
@UseFilters(senderErrorFilter(pdError))
export class EventsV1Controller {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly ingest: IngestService,
  ) {}

  @Post('create_event.json')
  @HttpCode(200)
  async enqueue(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    return answerWith(res, await enqueueV1(this.keys, this.ingest, body));
  }
}
