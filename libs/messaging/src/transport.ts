import { BaseRpcContext, EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { dlqTopicName, InvalidEventError, parseEvent, topicName, type Envelope, type EventType, type TopicId } from '#libs/contracts';
import { withCorrelationId, type Metrics } from '#libs/observability';
import { crashPoint } from './crash.js';
import { errorMessage, isTransientInfrastructureError, sleep } from './errors.js';

/**
 * What an event handler gets besides the payload: the envelope and the transaction in which the
 * message is recorded as processed. Every write of the handler goes through `manager`, so the
 * effect and the "processed" mark commit together or not at all.
 */
export class EventContext extends BaseRpcContext<[Envelope, EntityManager, string, number, string]> {
  get envelope(): Envelope {
    return this.args[0];
  }
  get manager(): EntityManager {
    return this.args[1];
  }
  get topic(): string {
    return this.args[2];
  }
  get partition(): number {
    return this.args[3];
  }
  get offset(): string {
    return this.args[4];
  }
}

export interface KafkaTransportSettings {
  kafka: Kafka;
  /** The consumer group, also the name under which processed messages are recorded. */
  groupId: string;
  topics: TopicId[];
  topicPrefix: string;
  dataSource: DataSource;
  /** Used for dead-lettering. */
  producer: Producer;
  metrics: Metrics;
  logger: Logger;
  /** Attempts before a failing message is dead-lettered (transient infrastructure errors do not count). */
  maxAttempts?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
}

/**
 * A NestJS microservice transport over kafkajs that handles `@EventPattern('<event type>')`
 * methods exactly once in effect:
 *
 * - each message is handled in a PostgreSQL transaction that first inserts (consumer, event id)
 *   into processed_messages; a redelivered or republished event finds the row and is skipped;
 * - offsets are resolved only after that transaction committed, and committed after that;
 * - a message that keeps failing is retried with backoff, then written to `<topic>.dlq` with the
 *   error, and the partition moves on (Nest's own Kafka transport would block it);
 * - infrastructure errors (PostgreSQL down) are retried without limit: the message is fine;
 * - shutdown stops fetching and lets the message in hand finish.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer?: Consumer;
  private readonly maxAttempts: number;
  private readonly abort = new AbortController();
  private closed = false;
  private restarts = 0;

  constructor(private readonly settings: KafkaTransportSettings) {
    super();
    this.maxAttempts = settings.maxAttempts ?? 5;
  }

  on(): void {
    throw new Error('KafkaEventTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Starts a consumer, and starts a new one whenever kafkajs gives up on the old one. kafkajs
   * restarts its consumer only after errors it calls retriable; some it does not (the group
   * coordinator not found while a broker restarts, for one) leave a consumer that has stopped for
   * good while the process lives on, and events would pile up unread. Here no error stops
   * consumption for longer than the back-off: only close() does.
   */
  private async start(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.runConsumer();
        return;
      } catch (err) {
        const delay = Math.min(500 * 2 ** Math.min(attempt, 4), 5000);
        this.settings.logger.error({ err: errorMessage(err), retryInMs: delay }, 'event consumer could not start; trying again');
        await this.consumer?.disconnect().catch(() => undefined);
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async runConsumer(): Promise<void> {
    const { kafka, groupId, topics, topicPrefix } = this.settings;
    const consumer = kafka.consumer({
      groupId,
      // After a crash the group waits this long for the dead member before rebalancing.
      sessionTimeout: this.settings.sessionTimeoutMs ?? 10000,
      rebalanceTimeout: this.settings.sessionTimeoutMs ?? 10000,
      heartbeatInterval: 1000,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs has already disconnected this consumer; when it will not restart it, we do.
      if (payload.restart || this.closed || this.consumer !== consumer) return;
      this.restarts += 1;
      this.settings.logger.error({ err: errorMessage(payload.error), restarts: this.restarts }, 'event consumer stopped; starting a new one');
      void sleep(1000, this.abort.signal).then(() => this.start());
    });
    await consumer.connect();
    // Fresh groups start at the beginning: an event published before this service first ran is still handled.
    await consumer.subscribe({ topics: topics.map((t) => topicName(t, topicPrefix)), fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      autoCommitThreshold: 100,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    if (this.closed) await consumer.disconnect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    // disconnect() waits for the batch in hand to finish and commits resolved offsets.
    await this.consumer?.disconnect();
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.closed) break;
      const done = await this.handleMessage(batch.topic, batch.partition, message, isRunning);
      if (!done) break;
      resolveOffset(message.offset);
      this.settings.metrics.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
      );
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  /** Returns false when the message was not finished (shutting down); it will be redelivered. */
  private async handleMessage(topic: string, partition: number, message: KafkaMessage, isRunning: () => boolean): Promise<boolean> {
    const { metrics, logger } = this.settings;
    let envelope: Envelope;
    try {
      envelope = parseEvent(message.value);
    } catch (err) {
      await this.deadLetter(topic, partition, message, err, 0);
      return true;
    }
    const handler = this.getHandlerByPattern(envelope.type);
    if (!handler) {
      metrics.consumed.inc({ topic, outcome: 'ignored' });
      return true;
    }
    return withCorrelationId(envelope.correlationId, async () => {
      let attempt = 0;
      let transientFailures = 0;
      for (;;) {
        if (!isRunning() || this.closed) return false;
        attempt += 1;
        try {
          const outcome = await this.settings.dataSource.transaction(async (manager) => {
            const inserted: unknown[] = await manager.query(
              `INSERT INTO processed_messages (consumer, event_id, topic, partition, "offset")
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
              [this.settings.groupId, envelope.id, topic, partition, message.offset],
            );
            if (inserted.length === 0) return 'duplicate' as const;
            const ctx = new EventContext([envelope, manager, topic, partition, message.offset]);
            // Several handlers of one event type in a service (the platform's directory copy and the
            // service's own) run one after another, in the same transaction.
            for (let h: typeof handler | undefined = handler; h; h = h.next) {
              const result = await h(envelope.data, ctx);
              await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
            }
            crashPoint(`consumer.${envelope.type}.before-commit`);
            return 'handled' as const;
          });
          metrics.consumed.inc({ topic, outcome });
          metrics.eventAge.observe({ topic }, Math.max(0, (Date.now() - Date.parse(envelope.occurredAt)) / 1000));
          if (outcome === 'duplicate') logger.debug({ eventId: envelope.id, type: envelope.type }, 'duplicate event skipped');
          return true;
        } catch (err) {
          if (isTransientInfrastructureError(err)) {
            transientFailures += 1;
            attempt -= 1;
            const delay = Math.min(200 * 2 ** Math.min(transientFailures, 5), 5000);
            logger.warn({ err: errorMessage(err), eventId: envelope.id, type: envelope.type, retryInMs: delay }, 'infrastructure unavailable; retrying event');
            await sleep(delay, this.abort.signal);
            continue;
          }
          if (err instanceof InvalidEventError || attempt >= this.maxAttempts) {
            await this.deadLetter(topic, partition, message, err, attempt);
            return true;
          }
          const delay = 100 * 2 ** (attempt - 1);
          logger.warn({ err: errorMessage(err), eventId: envelope.id, type: envelope.type, attempt, retryInMs: delay }, 'event handler failed; retrying');
          await sleep(delay, this.abort.signal);
        }
      }
    });
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, err: unknown, attempts: number): Promise<void> {
    const reason = errorMessage(err);
    this.settings.logger.error({ topic, partition, offset: message.offset, reason, attempts }, 'message dead-lettered');
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = v;
    }
    // Kafka acknowledges the dead letter before the offset moves on, so a poison message is never simply dropped.
    for (let i = 0; ; i++) {
      try {
        await this.settings.producer.send({
          topic: dlqTopicName(topic),
          acks: -1,
          messages: [
            {
              key: message.key,
              value: message.value,
              headers: {
                ...headers,
                'dlq-reason': reason.slice(0, 2000),
                'dlq-source-topic': topic,
                'dlq-source-partition': String(partition),
                'dlq-source-offset': message.offset,
                'dlq-consumer': this.settings.groupId,
                'dlq-attempts': String(attempts),
              },
            },
          ],
        });
        break;
      } catch (sendErr) {
        if (this.closed) throw sendErr;
        await sleep(Math.min(200 * 2 ** i, 5000), this.abort.signal);
      }
    }
    this.settings.metrics.consumed.inc({ topic, outcome: 'dead-lettered' });
  }
}

/**
 * Marks a method as the handler of one event type: `@OnEvent('incident.triggered')`. The method
 * receives the validated data (`@Payload()`) and the EventContext (`@Ctx()`), whose `manager` is
 * the transaction to write in.
 */
export function OnEvent(type: EventType): MethodDecorator {
  return EventPattern(type) as MethodDecorator;
}
