import { InvalidInputError } from '#libs/platform';
import type { IngestService } from '../alerts/ingest.service.js';
import type { EventOutcome } from '../alerts/normalized.js';
import type { IntegrationKeys, KeyedIntegration } from '../integrations/integration-keys.js';
import { normalizeWebhook, parseWebhook, type WebhookFlavour } from './alertmanager.js';

/* Webhook intake (Alertmanager, Grafana, generic), for the controller and the fast lane alike. */

export function bearer(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

/** What a webhook sender gets back: how many alerts it sent, and what became of each. */
export function summary(outcomes: EventOutcome[]): Record<string, unknown> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
  return { status: 'success', message: `${outcomes.length} alert${outcomes.length === 1 ? '' : 's'} processed`, outcomes: counts };
}

/** Alertmanager and Grafana webhooks, for the controller and the fast lane alike; answers 202 with what became of each alert. */
export async function receiveWebhook(
  keys: IntegrationKeys,
  ingest: IngestService,
  flavour: WebhookFlavour,
  key: string | undefined,
  body: unknown,
  /** Checks the request's signature; may name the delivery (its id is then accepted once). */
  verify?: (i: KeyedIntegration) => string | undefined,
): Promise<unknown> {
  const integration = await keys.authenticate(key, [flavour]);
  const deliveryId = verify?.(integration);
  const parsed = parseWebhook(body, flavour);
  if (!parsed.ok)
    throw new InvalidInputError(
      `${flavour === 'grafana' ? 'Grafana' : 'Alertmanager'} webhook message is invalid: ${parsed.errors.slice(0, 10).join('; ')}`,
      parsed.errors,
    );
  const events = normalizeWebhook(parsed.webhook, flavour, (integration.config.defaultSeverity as 'error' | undefined) ?? 'error');
  const result = await ingest.submit({ integration, events, deliveryId });
  return result.redelivered ? { status: 'success', message: 'Already processed (the same signed delivery)' } : summary(result.outcomes);
}
