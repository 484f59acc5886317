import { randomUUID } from 'node:crypto';
import type { FastResponse } from '#libs/platform';
import type { IngestService } from '../alerts/ingest.service.js';
import type { IntegrationKeys, KeyedIntegration } from '../integrations/integration-keys.js';
import { CreateAlertSchema, envelope, normalizeCreate, parseOpsgenie } from './alert-api.js';

/* Opsgenie Alert API intake (create), for the controller and the fast lane alike. */

export const ogError = (_status: number, message: string) => ({ message, took: 0, requestId: randomUUID() });

function genieKey(authorization: string | undefined): string | undefined {
  const m = /^GenieKey\s+(\S+)$/i.exec(authorization ?? '');
  return m?.[1];
}

export function authenticate(keys: IntegrationKeys, authorization: string | undefined): Promise<KeyedIntegration> {
  return keys.authenticate(genieKey(authorization), ['opsgenie'], 'GenieKey (send "Authorization: GenieKey <key>")');
}

/** POST /v2/alerts, for the controller and the fast lane alike. */
export async function createAlert(
  keys: IntegrationKeys,
  ingest: IngestService,
  authorization: string | undefined,
  idempotencyKey: string | undefined,
  body: unknown,
): Promise<FastResponse> {
  const started = performance.now();
  const parsed = parseOpsgenie(CreateAlertSchema, body);
  if (!parsed.ok) return { status: 400, body: envelope(started, randomUUID(), { message: parsed.message, errors: parsed.errors }) };
  const integration = await authenticate(keys, authorization);
  const requestId = randomUUID();
  const event = normalizeCreate(parsed.value);
  await ingest.submit({
    integration,
    events: [event],
    request: { id: requestId, action: 'Create', alias: event.dedupKey },
    deliveryId: idempotencyKey?.slice(0, 200) || undefined,
  });
  return { status: 202, body: envelope(started, requestId, { result: 'Request will be processed' }) };
}
