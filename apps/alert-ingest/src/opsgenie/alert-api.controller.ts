import { All, Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Public } from '#libs/auth';
import { answerWith } from '#libs/platform';
import { queryRows } from '#libs/database';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AlertsQueries } from '../alerts/alerts.queries.js';
import { IngestService } from '../alerts/ingest.service.js';
import { HeartbeatsService } from '../heartbeats/heartbeats.service.js';
import { IntegrationKeys, type KeyedIntegration } from '../integrations/integration-keys.js';
import { senderErrorFilter } from '../integrations/ingest-errors.filter.js';
import { ActionSchema, IdentifierType, actionEvent, envelope, opsgenieAlert, parseOpsgenie } from './alert-api.js';
import { authenticate, createAlert, ogError } from './alert-api.intake.js';

/**
 * Opsgenie Alert API v2, drop-in: set a sender's Opsgenie API URL to Klaxon and use an "opsgenie"
 * integration key as the GenieKey. Like Opsgenie, every action answers 202 with a request id, and
 * GET /v2/alerts/requests/{id} tells what became of it.
 */
@Controller('v2')
@Public()
@UseFilters(senderErrorFilter(ogError))
export class OpsgenieController {
  constructor(
    private readonly keys: IntegrationKeys,
    private readonly ingest: IngestService,
    private readonly alerts: AlertsQueries,
    private readonly heartbeats: HeartbeatsService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  private auth(authorization: string | undefined): Promise<KeyedIntegration> {
    return authenticate(this.keys, authorization);
  }

  @Post('alerts')
  @HttpCode(202)
  async create(
    @Headers('authorization') authorization: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return answerWith(res, await createAlert(this.keys, this.ingest, authorization, idempotencyKey, body));
  }

  @Post('alerts/:identifier/close')
  @HttpCode(202)
  close(
    @Headers('authorization') a: string | undefined,
    @Param('identifier') id: string,
    @Query('identifierType') type: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return this.act('resolve', a, id, type, body, res);
  }

  @Post('alerts/:identifier/acknowledge')
  @HttpCode(202)
  acknowledge(
    @Headers('authorization') a: string | undefined,
    @Param('identifier') id: string,
    @Query('identifierType') type: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return this.act('acknowledge', a, id, type, body, res);
  }

  private async act(
    action: 'acknowledge' | 'resolve',
    authorization: string | undefined,
    identifier: string,
    rawType: unknown,
    body: unknown,
    res: Response,
  ): Promise<unknown> {
    const started = performance.now();
    const type = IdentifierType.safeParse(rawType ?? undefined);
    const parsed = parseOpsgenie(ActionSchema, body);
    const problem = !type.success
      ? 'identifierType must be id, alias or tiny'
      : !parsed.ok
        ? parsed.message
        : identifier.length > 512
          ? 'identifier is longer than 512 characters'
          : undefined;
    if (problem) {
      res.status(400);
      return envelope(started, randomUUID(), { message: problem });
    }
    if (type.data === 'tiny') {
      res.status(400);
      return envelope(started, randomUUID(), { message: 'Klaxon alerts have no tiny ids: identify the alert by id or alias' });
    }
    const integration = await this.auth(authorization);
    const requestId = randomUUID();
    const label = action === 'resolve' ? 'Close' : 'Acknowledge';
    // By id: act on exactly that alert. By alias: on the open alert with that alias, if any.
    const target = type.data === 'id' && isUuid(identifier) ? await this.alerts.find(integration.serviceId, { id: identifier }) : undefined;
    const events =
      type.data === 'alias'
        ? [actionEvent(action, { dedupKey: identifier }, parsed.ok ? parsed.value : {})]
        : target
          ? [actionEvent(action, { dedupKey: target.dedupKey, alertId: target.id }, parsed.ok ? parsed.value : {})]
          : [];
    await this.ingest.submit({
      integration,
      events,
      request: { id: requestId, action: label, alias: type.data === 'alias' ? identifier : (target?.dedupKey ?? null) },
    });
    return envelope(started, requestId, { result: 'Request will be processed' });
  }

  @Get('alerts/requests/:requestId')
  async request(
    @Headers('authorization') authorization: string | undefined,
    @Param('requestId') requestId: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const started = performance.now();
    const integration = await this.auth(authorization);
    const [row] = isUuid(requestId)
      ? await queryRows<{ action: string; status: string; success: boolean; alert_id: string | null; alias: string | null; created_at: Date }>(
          this.db,
          'SELECT action, status, success, alert_id, alias, created_at FROM ingest_requests WHERE id = $1 AND integration_id = $2',
          [requestId, integration.id],
        )
      : [];
    if (!row) {
      res.status(404);
      return envelope(started, randomUUID(), {
        message: `Request ${requestId} is unknown: it was made with another key, or is older than Klaxon keeps request records`,
      });
    }
    return envelope(started, randomUUID(), {
      data: {
        success: row.success,
        isSuccess: row.success,
        action: row.action,
        processedAt: row.created_at.toISOString(),
        integrationId: integration.id,
        status: row.status,
        alertId: row.alert_id ?? '',
        alias: row.alias ?? '',
      },
    });
  }

  @Get('alerts/:identifier')
  async get(
    @Headers('authorization') authorization: string | undefined,
    @Param('identifier') identifier: string,
    @Query('identifierType') rawType: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const started = performance.now();
    const type = IdentifierType.safeParse(rawType ?? undefined);
    if (!type.success || type.data === 'tiny') {
      res.status(400);
      return envelope(started, randomUUID(), { message: 'identifierType must be id or alias' });
    }
    const integration = await this.auth(authorization);
    const alert =
      type.data === 'id'
        ? isUuid(identifier)
          ? await this.alerts.find(integration.serviceId, { id: identifier })
          : undefined
        : await this.alerts.find(integration.serviceId, { dedupKey: identifier });
    if (!alert) {
      res.status(404);
      return envelope(started, randomUUID(), { message: `Alert with ${type.data} ${identifier} does not exist` });
    }
    return envelope(started, randomUUID(), { data: opsgenieAlert(alert) });
  }

  /** Opsgenie heartbeat pings: any method, by the heartbeat's name on the key's service. */
  @All('heartbeats/:name/ping')
  async ping(
    @Headers('authorization') authorization: string | undefined,
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const started = performance.now();
    const integration = await this.auth(authorization);
    const heartbeat = await this.heartbeats.findByName(integration.serviceId, name);
    if (!heartbeat) {
      res.status(404);
      return envelope(started, randomUUID(), { message: `Heartbeat with name [${name}] does not exist on this service (or is disabled)` });
    }
    await this.heartbeats.ping(heartbeat);
    return envelope(started, randomUUID(), { result: 'PONG - Heartbeat received' });
  }
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
