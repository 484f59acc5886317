import { Body, Controller, Headers, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '#libs/auth';
import { answerWith, type FastResponse } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import { IntegrationKeys } from '../integrations/integration-keys.js';
import { senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { ChangeEventsService } from '../changes/change-events.service.js';
import { isEventV1 } from './events-v1.js';
import { enqueueV1, pdError } from './events-v1.controller.js';
import { dedupKeyFor, normalizeEventV2, parseChangeEvent, parseEventV2 } from './events-v2.js';

/** POST /v2/enqueue, for the controller and the fast lane alike. */
export async function enqueueV2(keys: IntegrationKeys, ingest: IngestService, body: unknown, idempotencyKey: string | undefined): Promise<FastResponse> {
  // Alertmanager with a service_key sends Events API v1 bodies to whatever URL it is given.
  if (isEventV1(body)) return enqueueV1(keys, ingest, body);
  const parsed = parseEventV2(body);
  if (!parsed.ok) return { status: 400, body: pdError(400, 'Event object is invalid', parsed.errors) };
  const integration = await keys.authenticate(parsed.event.routing_key, ['events-api-v2'], 'routing_key');
  const dedupKey = dedupKeyFor(parsed.event);
  // Answered only after the alert and its event are committed: a 202 is never lost.
  // A sender that retries with the same Idempotency-Key changes nothing the second time.
  await ingest.submit({ integration, events: [normalizeEventV2(parsed.event, dedupKey)], deliveryId: idempotencyKey?.slice(0, 200) || undefined });
  return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
}

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
