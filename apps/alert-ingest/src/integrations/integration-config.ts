import { z } from 'zod';

/*
 * Per-type integration settings (the integrations.config column), validated when an integration is
 * created or updated. Secrets in here are write-only: the API shows that they are set, never them.
 */

export const INTEGRATION_TYPES = ['events-api-v2', 'opsgenie', 'alertmanager', 'grafana', 'cloudwatch', 'webhook', 'heartbeat'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

const severity = z.enum(['critical', 'error', 'warning', 'info']);

/** Per-integration rate limit; off unless set, because Alertmanager drops what gets a 429. */
const rateLimit = z.strictObject({
  events: z.number().int().min(1).max(1_000_000),
  perSeconds: z.number().int().min(1).max(3600),
});

const common = {
  rateLimit: rateLimit.optional(),
  /** Severity when the sender gives none Klaxon understands. */
  defaultSeverity: severity.optional(),
};

const path = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(\$\.)?[^.[\]\s]+(\[\d+\]|\.[^.[\]\s]+)*$/, 'must be a field path like "alert.id" or "items[0].name"');
const words = z.array(z.string().min(1).max(100)).min(1).max(50);

export const IntegrationConfigSchemas = {
  'events-api-v2': z.strictObject({ ...common }),
  opsgenie: z.strictObject({ ...common }),
  alertmanager: z.strictObject({ ...common }),
  grafana: z.strictObject({
    ...common,
    /** Grafana's "HMAC signature" secret; when set, unsigned or badly signed requests are refused. */
    hmacSecret: z.string().min(8).max(500).optional(),
    hmacHeader: z.string().min(1).max(100).optional(),
    /** When Grafana is set to send a timestamp header, the signature covers "timestamp:body". */
    hmacTimestampHeader: z.string().min(1).max(100).optional(),
  }),
  cloudwatch: z.strictObject({
    ...common,
    /** SNS topics allowed to deliver here (exact ARNs). */
    topicArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/, 'must be an SNS topic ARN'))
      .min(1)
      .max(100),
  }),
  webhook: z.strictObject({
    ...common,
    /** Where the dedup key is; without it, a hash of the dedupFields' values (default: summary and source). */
    dedupKeyPath: path.optional(),
    dedupFields: z.array(path).min(1).max(20).optional(),
    summaryPath: path.default('summary'),
    sourcePath: path.optional(),
    severityPath: path.optional(),
    /** Where the action is; without it every payload is a trigger. */
    actionPath: path.optional(),
    triggerValues: words.optional(),
    acknowledgeValues: words.optional(),
    resolveValues: words.optional(),
    /** Fields copied into the alert's labels (content-based grouping). */
    labelPaths: z.record(z.string().min(1).max(100), path).optional(),
    /** A header carrying the sender's delivery id; a redelivery with the same id changes nothing. */
    idempotencyHeader: z.string().min(1).max(100).optional(),
  }),
  heartbeat: z.strictObject({
    ...common,
    intervalSeconds: z
      .number()
      .int()
      .min(10)
      .max(31 * 24 * 3600),
    /** Summary of the alert a missed heartbeat opens (default "<name> is expired"). */
    alertSummary: z.string().min(1).max(1024).optional(),
  }),
} satisfies Record<IntegrationType, z.ZodType>;

export type IntegrationConfig<T extends IntegrationType = IntegrationType> = z.output<(typeof IntegrationConfigSchemas)[T]>;

export const SECRET_FIELDS = ['hmacSecret'] as const;

/** The config as the API shows it: secrets replaced by a marker. */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out = { ...config };
  for (const f of SECRET_FIELDS) if (out[f] !== undefined) out[f] = '(set)';
  return out;
}
