import { BaseRpcContext, EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { dlqTopicName, InvalidEventError, parseEvent, topicName, type Envelope, type EventType, type TopicId } from '#libs/contracts';
import { withCorrelationId, type Metrics } from '#libs/observability';
import { queryRows } from '#libs/database';
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
  /** Events of one partition handled in one transaction (1: each on its own). */
  eventsPerTransaction?: number;
}

/**
 * A NestJS microservice transport over kafkajs that handles `@EventPattern('<event type>')`
 * methods exactly once in effect:
 *
 * - each message is handled in a PostgreSQL transaction that first inserts (consumer, event id)
 *   into processed_messages; a redelivered or republished event finds the row and is skipped;
 * - under load, consecutive events of a partition share one transaction (up to
 *   `eventsPerTransaction`): one commit, one fsync, for many events, with the same per-event
 *   record; if any of them fails, the whole group rolls back and is halved until the failing
 *   event is alone, so one bad event never holds back or doubles the others;
 * - offsets are resolved only after that transaction committed, and committed after that;
 * - a message that keeps failing is retried with backoff, then written to `<topic>.dlq` with the
 *   error, and the partition moves on (Nest's own Kafka transport would block it);
 * - infrastructure errors (PostgreSQL down) are retried without limit: the message is fine;
 * - shutdown stops fetching and lets the message in hand finish.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer?: Consumer;
  private readonly maxAttempts: number;
  private readonly perTransaction: number;
  private readonly abort = new AbortController();
  private closed = false;
  private restarts = 0;

  constructor(private readonly settings: KafkaTransportSettings) {
    super();
    this.maxAttempts = settings.maxAttempts ?? 5;
    this.perTransaction = Math.max(1, settings.eventsPerTransaction ?? 100);
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
    const sessionTimeout = this.settings.sessionTimeoutMs ?? 10000;
    const consumer = kafka.consumer({
      groupId,
      // After a crash the group waits this long for the dead member before rebalancing.
      sessionTimeout,
      rebalanceTimeout: sessionTimeout,
      // kafkajs heartbeats between fetches and between our groups of events: both must come well
      // within the session timeout, or a live but idle member is taken for dead.
      heartbeatInterval: Math.min(1000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: Math.min(5000, Math.floor(sessionTimeout / 3)),
      allowAutoTopicCreation: false,
      // Bounded fetches: in a storm a consumer holds at most this much unhandled (backpressure, not buffering).
      maxBytesPerPartition: 256 * 1024,
      maxBytes: 2 * 1024 * 1024,
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
    const done = (message: KafkaMessage): void => {
      resolveOffset(message.offset);
      this.settings.metrics.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(message.offset) - 1),
      );
    };
    const running = (): boolean => isRunning() && !isStale() && !this.closed;
    // A group that fails together is halved until the event at fault is alone: one poison event
    // costs a few more transactions, not one per event of its group.
    const handle = async (group: KafkaMessage[]): Promise<boolean> => {
      if (!running()) return false;
      if (group.length === 1) {
        if (!(await this.handleMessage(batch.topic, batch.partition, group[0]!, isRunning))) return false;
      } else if (!(await this.handleTogether(batch.topic, batch.partition, group))) {
        const half = Math.ceil(group.length / 2);
        return (await handle(group.slice(0, half))) && handle(group.slice(half));
      }
      done(group[group.length - 1]!);
      await heartbeat();
      return true;
    };
    for (let start = 0; start < batch.messages.length; start += this.perTransaction) {
      if (!(await handle(batch.messages.slice(start, start + this.perTransaction)))) break;
    }
    await commitOffsetsIfNecessary();
  }

  /**
   * Handles consecutive events of one partition in one transaction, each recorded in
   * processed_messages as it would be alone. Returns false, having changed nothing, if any event
   * cannot be parsed or any handler fails: the caller then splits the group.
   */
  private async handleTogether(topic: string, partition: number, messages: KafkaMessage[]): Promise<boolean> {
    const { metrics, logger } = this.settings;
    const events: { envelope: Envelope; message: KafkaMessage }[] = [];
    for (const message of messages) {
      try {
        events.push({ envelope: parseEvent(message.value), message });
      } catch {
        return false;
      }
    }
    const outcomes = new Map<string, 'handled' | 'duplicate' | 'ignored'>();
    try {
      await this.settings.dataSource.transaction(async (manager) => {
        const wanted = events.filter((e) => this.handlerFor(e.envelope.type));
        const fresh = await this.markProcessed(
          manager,
          topic,
          partition,
          wanted.map((e) => ({ id: e.envelope.id, offset: e.message.offset })),
        );
        for (const { envelope } of events) {
          const handler = this.handlerFor(envelope.type);
          if (!handler) outcomes.set(envelope.id, 'ignored');
          else if (!fresh.delete(envelope.id.toLowerCase())) outcomes.set(envelope.id, 'duplicate');
          else {
            await withCorrelationId(envelope.correlationId, () => this.runHandlers(handler, envelope, manager, topic, partition, envelope.id));
            outcomes.set(envelope.id, 'handled');
          }
        }
        for (const type of new Set(events.map((e) => e.envelope.type))) crashPoint(`consumer.${type}.before-commit`);
      });
    } catch (err) {
      logger.debug({ err: errorMessage(err), events: events.length, topic, partition }, 'events handled together failed; splitting the group');
      return false;
    }
    const now = Date.now();
    for (const { envelope } of events) {
      const outcome = outcomes.get(envelope.id) ?? 'duplicate';
      metrics.consumed.inc({ topic, outcome });
      if (outcome === 'handled') metrics.eventAge.observe({ topic }, Math.max(0, (now - Date.parse(envelope.occurredAt)) / 1000));
    }
    return true;
  }

  /** Several handlers of one event type in a service (the platform's directory copy and the service's own) run one after another, in the same transaction. */
  private async runHandlers(
    handler: NonNullable<ReturnType<Server['getHandlerByPattern']>>,
    envelope: Envelope,
    manager: EntityManager,
    topic: string,
    partition: number,
    offset: string,
  ): Promise<void> {
    const ctx = new EventContext([envelope, manager, topic, partition, offset]);
    for (let h: typeof handler | undefined = handler; h; h = h.next) {
      const result: unknown = await h(envelope.data, ctx);
      // A handler behind an interceptor answers with an Observable; a plain one has finished here.
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    }
  }

  /**
   * Records the events as processed by this consumer; returns the ids (lower case) not recorded
   * before, whose handlers are to run. A copy already recorded, or twice in the list, counts once.
   */
  private async markProcessed(manager: EntityManager, topic: string, partition: number, events: { id: string; offset: string }[]): Promise<Set<string>> {
    const inserted = await queryRows<{ event_id: string }>(
      manager,
      `INSERT INTO processed_messages (consumer, event_id, topic, partition, "offset")
       SELECT $1, e.id, $3, $4, e.off FROM unnest($2::uuid[], $5::bigint[]) AS e(id, off)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [this.settings.groupId, events.map((e) => e.id), topic, partition, events.map((e) => e.offset)],
    );
    return new Set(inserted.map((r) => r.event_id.toLowerCase()));
  }

  private readonly handlers = new Map<string, ReturnType<Server['getHandlerByPattern']>>();

  /** Nest's own look-up JSON-parses the pattern each time (and throws for a plain string): once per event type is enough. */
  private handlerFor(type: string): ReturnType<Server['getHandlerByPattern']> {
    let handler = this.handlers.get(type);
    if (handler === undefined) this.handlers.set(type, (handler = this.getHandlerByPattern(type)));
    return handler;
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
    const handler = this.handlerFor(envelope.type);
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
            const fresh = await this.markProcessed(manager, topic, partition, [{ id: envelope.id, offset: message.offset }]);
            if (fresh.size === 0) return 'duplicate' as const;
            await this.runHandlers(handler, envelope, manager, topic, partition, message.offset);
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
