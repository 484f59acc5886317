import { Kafka, logLevel, type Consumer, type IHeaders } from 'kafkajs';
import { randomUUID } from 'node:crypto';

export interface TappedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  json?: { id: string; type: string; key: string; data: Record<string, any>; correlationId: string };
}

/**
 * Reads topics from the beginning, as an outside observer, so a test can assert what was published.
 * Like the services' consumers (libs/messaging transport), it starts a new consumer when kafkajs
 * gives one up for good, and says so on stderr; a message read twice across that restart is kept once.
 */
export class KafkaTap {
  readonly messages: TappedMessage[] = [];
  private consumer?: Consumer;
  private readonly seen = new Set<string>();
  /** Its own consumer group: waitUntilQuiet reads how far it has read. */
  readonly groupId = `tap-${randomUUID()}`;
  private stopped = false;

  constructor(
    private readonly brokers: string,
    readonly topics: string[],
  ) {}

  async start(): Promise<this> {
    const kafka = new Kafka({ clientId: 'klaxon-test-tap', brokers: this.brokers.split(','), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: this.groupId });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped || this.consumer !== consumer) return;
      process.stderr.write(`KafkaTap ${this.topics.join(',')}: consumer stopped (${payload.error.message}); starting a new one\n`);
      setTimeout(() => void this.start().catch((err) => process.stderr.write(`KafkaTap: could not restart: ${(err as Error).message}\n`)), 500);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const id = `${topic}/${partition}/${message.offset}`;
        if (this.seen.has(id)) return;
        this.seen.add(id);
        const value = message.value?.toString() ?? null;
        let json: TappedMessage['json'];
        try {
          json = value ? JSON.parse(value) : undefined;
        } catch {
          json = undefined;
        }
        this.messages.push({ topic, partition, offset: message.offset, key: message.key?.toString() ?? null, value, headers: decode(message.headers), json });
      },
    });
    return this;
  }

  ofType(type: string): TappedMessage[] {
    return this.messages.filter((m) => m.json?.type === type);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }
}

function decode(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}

/** Produces raw messages straight onto a topic (duplicates, poison), bypassing any outbox. */
export async function produceRaw(
  brokers: string,
  topic: string,
  messages: { key?: string; value: string | null; headers?: Record<string, string> }[],
): Promise<void> {
  const kafka = new Kafka({ clientId: 'klaxon-test-producer', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}
