import { Body, Controller, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Public } from '#libs/auth';
import { answerWith, type FastResponse } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { normalizeEventV1, parseEventV1 } from './events-v1.js';

/** PagerDuty's error shape, for both API versions. */
export const pdError = (status: number, message: string, errors?: string[]) => ({
  status: status === 400 ? 'invalid event' : status === 429 ? 'throttle event' : status >= 500 ? 'unavailable' : 'unrecognized routing key',
  message,
  errors: errors ?? [message],
});

export async function enqueueV1(keys: IntegrationKeys, ingest: IngestService, body: unknown): Promise<FastResponse> {
  const parsed = parseEventV1(body);
  if (!parsed.ok) return { status: 400, body: pdError(400, 'Event object is invalid', parsed.errors) };
  const integration = await keys.authenticate(parsed.event.service_key, ['events-api-v2'], 'service_key');
  const dedupKey = parsed.event.incident_key ?? randomUUID().replace(/-/g, '');
  await ingest.submit({ integration, events: [normalizeEventV1(parsed.event, dedupKey)] });
  return { status: 200, body: { status: 'success', message: 'Event processed', incident_key: dedupKey } };
}

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
