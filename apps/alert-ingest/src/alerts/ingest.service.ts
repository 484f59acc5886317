import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { CONFIG } from '#libs/config';
import { errorMessage, isTransientInfrastructureError, sleep } from '#libs/messaging';
import { LOGGER, METRICS } from '#libs/platform';
import { currentCorrelationId, type Metrics } from '#libs/observability';
import { Counter, Histogram } from 'prom-client';
import type { IngestConfig } from '../config.js';
import { AlertWriter, type IngestItem, type IngestResult, type PendingReport } from './alert-writer.js';
import { RateLimitedError, RateLimiter, type RateLimit } from '../integrations/rate-limit.js';
import { sanitizeEvent } from './sanitize.js';
import { GroupCommitter, OverloadedError, type ItemResult } from './group-commit.js';

/**
 * The one door every endpoint writes through. Requests are group-committed: a 2xx is answered
 * only after the request's own transaction committed, but many requests share one commit.
 */
@Injectable()
export class IngestService {
  private readonly committer: GroupCommitter<IngestItem, IngestResult>;
  private readonly limiter = new RateLimiter();
  private readonly events: Counter<'type' | 'outcome'>;
  private readonly batchSize: Histogram;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writer: AlertWriter,
    @Inject(CONFIG) config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: Metrics,
  ) {
    this.committer = new GroupCommitter((items) => this.writeBatch(items), {
      maxBatch: config.INGEST_MAX_BATCH,
      maxQueued: config.INGEST_MAX_QUEUED,
      concurrency: config.INGEST_WRITERS,
      extraWriterAfter: config.INGEST_EXTRA_WRITER_AFTER,
    });
    metrics.gauge('klaxon_ingest_queued_events', 'Accepted events waiting for their group commit', async () => this.committer.queued);
    this.events = new Counter({
      name: 'klaxon_ingest_events_total',
      help: 'Events received from senders, by integration type and outcome (created, deduplicated, acknowledged, resolved, ignored, redelivered)',
      labelNames: ['type', 'outcome'],
      registers: [metrics.registry],
    });
    this.batchSize = new Histogram({
      name: 'klaxon_ingest_batch_requests',
      help: 'Requests written per transaction (group commit)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [metrics.registry],
    });
  }

  /**
   * Applies a sender's request durably. Throws 503 (the sender retries) when overloaded or when
   * the database cannot be reached; nothing answered 2xx is ever lost.
   */
  async submit(raw: IngestItem): Promise<IngestResult> {
    const item = { ...raw, events: raw.events.map(sanitizeEvent), correlationId: raw.correlationId ?? currentCorrelationId() };
    const weight = Math.max(1, item.events.length);
    const limit = item.integration.config?.rateLimit as RateLimit | undefined;
    if (limit) {
      const taken = this.limiter.take(item.integration.id, limit, weight, Date.now());
      if (!taken.ok) throw new RateLimitedError(taken.retryAfterSeconds);
    }
    try {
      const result = await this.committer.submit(item, weight);
      if (result.redelivered) this.events.inc({ type: item.integration.type, outcome: 'redelivered' }, Math.max(1, item.events.length));
      else for (const o of result.outcomes) this.events.inc({ type: item.integration.type, outcome: o.outcome });
      return result;
    } catch (err) {
      if (err instanceof OverloadedError) throw unavailable(err.message);
      if (isTransientInfrastructureError(err)) {
        this.logger.warn({ err: errorMessage(err) }, 'ingest could not reach the database; answering 503');
        throw unavailable('Klaxon cannot store alerts right now (database unavailable); retry shortly');
      }
      throw err;
    }
  }

  private async writeBatch(items: IngestItem[]): Promise<ItemResult<IngestResult>[]> {
    this.batchSize.observe(items.length);
    try {
      const results = await this.inTransaction(items);
      return results.map((value) => ({ ok: true, value }));
    } catch (err) {
      if (items.length === 1 || isTransientInfrastructureError(err)) throw err;
      // One bad request must not fail its neighbours: write each on its own.
      this.logger.warn({ err: errorMessage(err), batch: items.length }, 'batched write failed; writing its requests one by one');
      const out: ItemResult<IngestResult>[] = [];
      for (const item of items) {
        try {
          out.push({ ok: true, value: (await this.inTransaction([item]))[0]! });
        } catch (error) {
          out.push({ ok: false, error });
        }
      }
      return out;
    }
  }

  /** Deadlocks and serialization failures are retried: the batch is replayed whole. */
  private async inTransaction(items: IngestItem[]): Promise<IngestResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const scheduled = new Map<string, PendingReport>();
        const results = this.writer.fitsOneStatement(items)
          ? await withConnection(this.db, (em) => this.writer.applyIn(em, items, scheduled))
          : await this.db.transaction((em) => this.writer.applyIn(em, items, scheduled));
        this.writer.noteReportsScheduled(scheduled);
        return results;
      } catch (err) {
        const code = (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
        const retriable = code === '40P01' || code === '40001' || code === '23505';
        if (!retriable || attempt >= 3) throw err;
        await sleep(5 * attempt);
      }
    }
  }
}

/** A connection without a transaction: for a write that is one statement (it commits atomically). */
async function withConnection<T>(db: DataSource, run: (em: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    return await run(runner.manager);
  } finally {
    await runner.release();
  }
}

function unavailable(message: string): ServiceUnavailableException {
  return new ServiceUnavailableException({ message, retryAfterSeconds: 1 });
}
