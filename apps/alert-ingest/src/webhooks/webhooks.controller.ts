import { Body, Controller, Headers, HttpCode, Param, Post, Req, UseFilters } from '@nestjs/common';
import { ForbiddenException } from '@nestjs/common';
import { Public } from '#libs/auth';
import { InvalidInputError, type RawBodyRequest } from '#libs/platform';
import { IngestService } from '../alerts/ingest.service.js';
import type { IntegrationConfig } from '../integrations/integration-config.js';
import { IntegrationKeys, type KeyedIntegration } from '../integrations/integration-keys.js';
import { plainError, senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import type { WebhookFlavour } from './alertmanager.js';
import { normalizeGeneric } from './generic.js';
import { grafanaSignatureProblem } from './signature.js';
import { bearer, receiveWebhook, summary } from './webhooks.intake.js';

/**
 * Webhook receivers: Prometheus Alertmanager, Grafana alerting and any JSON sender. The key is in
 * the URL (…/<key>) or in "Authorization: Bearer <key>" for senders that can set headers.
 */
@Controller('integrations')
@Public()
@UseFilters(senderErrorFilter(plainError))
export class WebhooksController {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly ingest: IngestService,
  ) {}

  @Post(['alertmanager', 'alertmanager/:key'])
  @HttpCode(202)
  alertmanager(@Param('key') key: string | undefined, @Headers('authorization') auth: string | undefined, @Body() body: unknown): Promise<unknown> {
    return receiveWebhook(this.keys, this.ingest, 'alertmanager', key ?? bearer(auth), body);
  }

  @Post(['grafana', 'grafana/:key'])
  @HttpCode(202)
  async grafana(
    @Param('key') key: string | undefined,
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Req() req: RawBodyRequest,
  ): Promise<unknown> {
    return this.webhook('grafana', key ?? bearer(auth), body, (integration) => {
      const c = integration.config as IntegrationConfig<'grafana'>;
      if (!c.hmacSecret) return;
      const signature = req.header(c.hmacHeader ?? 'X-Grafana-Alerting-Signature');
      const problem = grafanaSignatureProblem({
        secret: c.hmacSecret,
        rawBody: req.rawBody ?? Buffer.alloc(0),
        signature,
        timestamp: c.hmacTimestampHeader ? req.header(c.hmacTimestampHeader) : undefined,
        timestampRequired: !!c.hmacTimestampHeader,
        nowMs: Date.now(),
      });
      if (problem) throw new ForbiddenException(problem);
      // A signature over a timestamp names one delivery: the same request again within the
      // allowed skew (a replay, or Grafana retrying one that did arrive) is not taken twice.
      return c.hmacTimestampHeader
        ? `grafana-signature:${signature!
            .trim()
            .toLowerCase()
            .replace(/^sha256=/, '')}`
        : undefined;
    });
  }

  @Post(['webhook', 'webhook/:key'])
  @HttpCode(202)
  async generic(
    @Param('key') key: string | undefined,
    @Headers('authorization') auth: string | undefined,
    @Body() body: unknown,
    @Req() req: RawBodyRequest,
  ): Promise<unknown> {
    const integration = await this.keys.authenticate(key ?? bearer(auth), ['webhook']);
    const config = integration.config as IntegrationConfig<'webhook'>;
    const parsed = normalizeGeneric(body, config);
    if (!parsed.ok) throw new InvalidInputError(`Webhook payload is invalid: ${parsed.errors.slice(0, 10).join('; ')}`, parsed.errors);
    const deliveryId = req.header(config.idempotencyHeader ?? 'Idempotency-Key')?.slice(0, 200) || undefined;
    const result = await this.ingest.submit({ integration, events: parsed.events, deliveryId });
    return result.redelivered ? { status: 'success', message: 'Already processed (same delivery id)' } : summary(result.outcomes);
  }

  private webhook(flavour: WebhookFlavour, key: string | undefined, body: unknown, verify?: (i: KeyedIntegration) => string | undefined): Promise<unknown> {
    return receiveWebhook(this.keys, this.ingest, flavour, key, body, verify);
  }
}
