import type { INestApplication } from '@nestjs/common';
import type { FastRoute } from '#libs/platform';
import { IngestService } from './alerts/ingest.service.js';
import { answerSender, plainError } from './integrations/ingest-errors.filter.js';
import { createAlert, ogError } from './opsgenie/alert-api.intake.js';
import { bearer, receiveWebhook } from './webhooks/webhooks.intake.js';
import { IntegrationKeys } from './integrations/integration-keys.js';
import { enqueueV1, enqueueV2, pdError } from './pagerduty/pagerduty.intake.js';

/**
 * The intake routes senders hit hardest, in the fast lane: the same functions the controllers
 * call, with the same answers, minus Express's and Nest's per-request cost. Anything else
 * (and these paths with a body that is not JSON) is served by the controllers.
 */
export function intakeFastRoutes(app: INestApplication): FastRoute[] {
  const keys = app.get(IntegrationKeys);
  const ingest = app.get(IngestService);
  return [
    {
      method: 'POST',
      path: '/v2/enqueue',
      handle: (req) => answerSender(pdError, () => enqueueV2(keys, ingest, req.body, header(req.headers['idempotency-key']))),
    },
    {
      method: 'POST',
      path: '/generic/2010-04-15/create_event.json',
      handle: (req) => answerSender(pdError, () => enqueueV1(keys, ingest, req.body)),
    },
    {
      method: 'POST',
      path: '/v2/alerts',
      handle: (req) =>
        answerSender(ogError, () => createAlert(keys, ingest, header(req.headers.authorization), header(req.headers['idempotency-key']), req.body)),
    },
    ...['/integrations/alertmanager', '/integrations/alertmanager/:key'].map((path): FastRoute => ({
      method: 'POST',
      path,
      handle: (req) =>
        answerSender(plainError, async () => ({
          status: 202,
          body: await receiveWebhook(keys, ingest, 'alertmanager', req.params.key ?? bearer(header(req.headers.authorization)), req.body),
        })),
    })),
  ];
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
