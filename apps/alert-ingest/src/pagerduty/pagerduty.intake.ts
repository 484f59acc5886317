import { randomUUID } from 'node:crypto';
import type { FastResponse } from '#libs/platform';
import type { IngestService } from '../alerts/ingest.service.js';
import type { IntegrationKeys } from '../integrations/integration-keys.js';
import { isEventV1, normalizeEventV1, parseEventV1 } from './events-v1.js';
import { dedupKeyFor, normalizeEventV2, parseEventV2 } from './events-v2.js';

/*
 * PagerDuty Events API intake, for the controllers and the fast lane alike: parse, authenticate by
 * routing (or service) key, submit durably, answer in PagerDuty's words.
 */

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
