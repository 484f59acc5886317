import { Kafka, Partitioners, logLevel, type Admin, type ITopicConfig, type LogEntry, type Producer } from 'kafkajs';
import { allTopics } from '#libs/contracts';
import type { Logger } from 'pino';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka({ brokers, clientId, logger }: KafkaSettings): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // kafkajs retries each request itself; a service that cannot reach Kafka keeps trying (the
    // outbox holds the events meanwhile) and reports not-ready on /health/ready.
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}

/**
 * One request in flight, so a retried send never reorders messages within a partition; callers
 * send with acks=all. A retry may still write a message twice: every consumer is idempotent by
 * event id, which is the guarantee Klaxon relies on, not the producer.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 200, retries: 6, maxRetryTime: 5000 },
  });
}

/** Creates Klaxon's topics (and dead-letter topics) if missing. Safe to run from every service. */
export async function ensureTopics(admin: Admin, prefix: string, extra: ITopicConfig[] = []): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [...allTopics(prefix).map((t) => ({ ...t, replicationFactor: -1 })), ...extra].filter((t) => !existing.has(t.topic));
  if (wanted.length === 0) return;
  try {
    await admin.createTopics({ topics: wanted, waitForLeaders: true });
  } catch (err) {
    // Another service created them first.
    if (!(err instanceof Error) || !/already exists/i.test(JSON.stringify((err as { errors?: unknown }).errors ?? err.message))) throw err;
  }
}
