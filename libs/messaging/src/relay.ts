import type { Producer, TopicMessages } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Metrics } from '#libs/observability';
import { queryPrepared } from '#libs/database';
import { crashPoint } from './crash.js';
import { errorMessage, sleep } from './errors.js';
import { Wakeup, type PgListener } from './listener.js';

/** All relays of one service share this lock: one publishes while the others stand by. */
const RELAY_LOCK_ID = 0x6b6c7801;

export interface RelaySettings {
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (ms). */
  pollIntervalMs?: number;
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  event_id: string;
  /** The envelope as JSON text, sent as it is (no parse and re-serialise per event). */
  value: string;
  correlation_id: string | null;
  producer: string | null;
}

/**
 * Publishes committed outbox rows to Kafka, oldest first, and deletes them once Kafka has
 * acknowledged them (acks=all).
 *
 * Guarantees:
 * - Nothing committed is lost: a row is deleted only after Kafka acknowledged it, in the same
 *   transaction that read it under the relay lock, so a crash before that commit leaves it for the
 *   next relay.
 * - Order per key: one relay at a time (an advisory lock), rows in id order, one request in flight.
 * - A crash after Kafka acknowledged but before the delete committed publishes that batch again;
 *   every consumer is idempotent by event id, so the effect still happens once.
 */
export class OutboxRelay {
  private readonly wakeup = new Wakeup();
  private readonly stopping = new Wakeup();
  private running = false;
  private loopDone?: Promise<void>;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly listener: PgListener,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    settings: RelaySettings = {},
  ) {
    this.batchSize = settings.batchSize ?? 500;
    this.pollIntervalMs = settings.pollIntervalMs ?? 500;
    this.listener.on('klaxon_outbox', this.wakeup.wake);
    metrics.gauge('klaxon_outbox_pending', 'Outbox rows committed but not yet published', async () => {
      const [row] = await this.dataSource.query('SELECT count(*)::int AS n FROM outbox');
      return row.n;
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops after the batch in flight; publishes what is left first, so a clean shutdown leaves nothing behind. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeup.wake();
    this.stopping.wake();
    await this.loopDone;
    try {
      let published: number | 'standby';
      do published = await this.publishBatch();
      while (published !== 'standby' && published > 0);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'outbox not drained at shutdown; the next start publishes it');
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const published = await this.publishBatch();
        failures = 0;
        if (published === 'standby') {
          // Another instance is publishing. Stand by on the poll interval, deaf to the NOTIFYs:
          // waking on every commit of every instance only to find the lock taken cost three
          // statements per commit per standby instance.
          await this.stopping.wait(this.pollIntervalMs);
          continue;
        }
        if (published >= this.batchSize) continue;
        await this.wakeup.wait(this.pollIntervalMs);
      } catch (err) {
        failures += 1;
        const delay = Math.min(100 * 2 ** failures, 5000);
        this.logger.warn({ err: errorMessage(err), retryInMs: delay }, 'outbox relay could not publish; will retry');
        await sleep(delay);
      }
    }
  }

  /** Publishes one batch; returns how many rows it published (0 when idle), or 'standby' when another relay holds the lock. */
  private async publishBatch(): Promise<number | 'standby'> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK_ID]);
      if (!locked) {
        await runner.rollbackTransaction();
        return 'standby';
      }
      // No row locks: the advisory lock makes this relay the only one reading and deleting rows
      // (FOR UPDATE wrote a lock into every row, a WAL record per event, for nothing).
      const rows = await queryPrepared<OutboxRow>(
        runner,
        'klaxon_relay_select',
        `SELECT id, topic, key, type, event_id, payload::text AS value, payload->>'correlationId' AS correlation_id, payload->>'producer' AS producer
         FROM outbox ORDER BY id LIMIT $1`,
        [this.batchSize],
      );
      if (rows.length === 0) {
        await runner.commitTransaction();
        return 0;
      }
      crashPoint('relay.before-publish');
      // Kafka refuses a request over its message.max.bytes (1 MB by default): large rows go in
      // several requests, one after another, so order per key holds and nothing sticks.
      const serialized = rows.map((row) => ({ row, value: row.value }));
      for (const chunk of chunksBySize(serialized, MAX_REQUEST_BYTES)) {
        await this.producer.sendBatch({ topicMessages: toTopicMessages(chunk), acks: -1 });
      }
      crashPoint('relay.after-publish');
      await queryPrepared(runner, 'klaxon_relay_delete', 'DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      await runner.commitTransaction();
      this.metrics.outboxPublished.inc(rows.length);
      return rows.length;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }
}

/** Payload bytes per produce request: well under the broker's default 1 MB message.max.bytes. */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Consecutive runs of rows whose values add up to at most maxBytes (a larger row goes alone). */
export function chunksBySize<T extends { value: string }>(rows: T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const row of rows) {
    const bytes = Buffer.byteLength(row.value);
    if (current.length && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += bytes;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function toTopicMessages(rows: { row: OutboxRow; value: string }[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { row, value } of rows) {
    let tm = byTopic.get(row.topic);
    if (!tm) byTopic.set(row.topic, (tm = { topic: row.topic, messages: [] }));
    tm.messages.push({
      key: row.key,
      value,
      headers: {
        'event-id': row.event_id,
        'event-type': row.type,
        'correlation-id': row.correlation_id ?? '',
        producer: row.producer ?? '',
      },
    });
  }
  return [...byTopic.values()];
}
