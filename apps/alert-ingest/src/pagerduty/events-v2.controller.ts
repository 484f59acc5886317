import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '#libs/auth';
import { AlertsService } from '../alerts/alerts.service.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import { dedupKeyFor, normalizeEventV2, parseEventV2 } from './events-v2.js';

/** PagerDuty Events API v2, drop-in: point a sender's PagerDuty URL at Klaxon and keep its routing key format. */
@Controller('v2')
@Public()
export class EventsV2Controller {
  constructor(
    private readonly integrations: IntegrationsService,
    private readonly alerts: AlertsService,
  ) {}

  @Post('enqueue')
  @HttpCode(202)
  async enqueue(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    const parsed = parseEventV2(body);
    if (!parsed.ok) {
      res.status(400);
      return { status: 'invalid event', message: 'Event object is invalid', errors: parsed.errors };
    }
    const integration = await this.integrations.findByKey(parsed.event.routing_key, 'events-api-v2');
    if (!integration) {
      res.status(403);
      return { status: 'invalid event', message: 'routing_key is not an enabled Klaxon integration key', errors: ["'routing_key' is not valid"] };
    }
    const dedupKey = dedupKeyFor(parsed.event);
    // Answered only after the alert and its event are committed: a 202 is never lost.
    await this.alerts.apply(integration, normalizeEventV2(parsed.event, dedupKey));
    return { status: 'success', message: 'Event processed', dedup_key: dedupKey };
  }
}
