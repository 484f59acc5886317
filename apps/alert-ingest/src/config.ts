import { z } from 'zod';
import { CommonEnv, ConfigError, env } from '#libs/config';

export const IngestEnv = CommonEnv.extend({
  PORT: CommonEnv.shape.PORT.default(3001),
  /** Most events written in one transaction (group commit). */
  INGEST_MAX_BATCH: z.coerce.number().int().min(1).max(5000).default(500),
  /** Transactions writing batches at the same time. */
  INGEST_WRITERS: z.coerce.number().int().min(1).max(16).default(4),
  /** While one batch is being written, another writer starts only once this many events wait (fewer, larger batches cost less per event). */
  INGEST_EXTRA_WRITER_AFTER: z.coerce.number().int().min(1).max(5000).default(32),
  /** Writers, the relay, timers and API reads share the pool: ingest needs more than the default. */
  DATABASE_POOL_SIZE: CommonEnv.shape.DATABASE_POOL_SIZE.unwrap().default(20),
  /** Events allowed to wait for the database; beyond this senders get 503 and retry. */
  INGEST_MAX_QUEUED: z.coerce.number().int().min(1).max(1_000_000).default(20000),
  /** A storm of repeats of one alert is reported (alert.deduplicated) at most this often. */
  INGEST_DEDUP_REPORT_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  /** How long an integration key lookup is cached; a disabled or rotated key stops working on other instances within this. */
  INGEST_KEY_CACHE_MS: z.coerce.number().int().min(0).max(60000).default(2000),
  /** Hosts allowed to serve SNS signing certificates (a regular expression over the URL's host name). */
  SNS_SIGNING_CERT_HOSTS: z
    .string()
    .default('^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$')
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression'),
  /** Test only: lets SNS signing certificates come over plain http (a local certificate server). */
  SNS_ALLOW_HTTP_CERT_URLS: env.bool.default(false),
});
export type IngestConfig = z.output<typeof IngestEnv>;

/** Rejects settings that are only safe in tests. */
export function checkIngestConfig(config: IngestConfig): void {
  if (config.SNS_ALLOW_HTTP_CERT_URLS && config.NODE_ENV !== 'test') {
    throw new ConfigError('SNS_ALLOW_HTTP_CERT_URLS is set but NODE_ENV is not "test": SNS certificates must come over https');
  }
}
