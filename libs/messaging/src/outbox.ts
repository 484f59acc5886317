import type { EntityManager } from 'typeorm';
import { buildEvent, topicOf, type Envelope, type EventData, type EventInput, type EventType } from '#libs/contracts';
import type { Clock } from '#libs/clock';
import { queryPrepared } from '#libs/database';
import { correlationIdOrNew } from '#libs/observability';

export interface OutboxSettings {
  producer: string;
  topicPrefix: string;
  clock: Clock;
}

/**
 * The only way a service emits an event: the row is written in the caller's transaction, so the
 * event exists if and only if the state change committed. The relay publishes it afterwards.
 */
export class Outbox {
  constructor(private readonly settings: OutboxSettings) {}

  async publish<T extends EventType>(
    manager: EntityManager,
    type: T,
    key: string,
    data: EventInput<T>,
    options: { id?: string } = {},
  ): Promise<Envelope<EventData<T>>> {
    const [envelope] = await this.publishMany(manager, [{ type, key, data, id: options.id }]);
    return envelope as Envelope<EventData<T>>;
  }

  async publishMany(manager: EntityManager, events: OutboxEvent[]): Promise<Envelope[]> {
    if (events.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.publish must run inside the transaction that changes the state it announces');
    }
    const prepared = this.prepare(events);
    // One statement shape whatever the batch size, prepared once per connection; the envelopes go
    // as one JSON array (PostgreSQL parses it once) and keep their order in the outbox's ids.
    await queryPrepared(manager, 'klaxon_outbox_insert', `${outboxInsert('e.payload')} FROM ${outboxRows('$1', '$2', 'e')} ORDER BY e.n`, [
      prepared.topics,
      prepared.json,
    ]);
    return prepared.envelopes;
  }

  /**
   * Builds and validates envelopes for a writer whose own statement inserts them into the outbox
   * (with outboxInsert/outboxRows), so the state change and its events are one statement: the
   * statement must commit atomically (be the transaction, or run inside the caller's).
   */
  prepare(events: OutboxEvent[]): PreparedEvents {
    const correlationId = correlationIdOrNew();
    const occurredAt = this.settings.clock.now();
    const envelopes = events.map((e) =>
      buildEvent(e.type, e.key, e.data as never, { producer: this.settings.producer, correlationId: e.correlationId ?? correlationId, occurredAt, id: e.id }),
    );
    return { envelopes, topics: envelopes.map((env) => topicOf(env.type as EventType, this.settings.topicPrefix)), json: JSON.stringify(envelopes) };
  }
}

export interface OutboxEvent {
  type: EventType;
  key: string;
  data: unknown;
  id?: string;
  /** For writers that batch several requests into one transaction (the default is the current one). */
  correlationId?: string;
}

export interface PreparedEvents {
  envelopes: Envelope[];
  /** Parameter: the topic of each envelope, in order (text[]). */
  topics: string[];
  /** Parameter: the envelopes as one JSON array (jsonb). */
  json: string;
}

/**
 * The outbox's INSERT … SELECT head, for statements that write their events themselves. `payload`
 * is the jsonb expression stored (the envelope, possibly completed by the statement); `envelope`
 * (the prepared one) gives the id, key and type. Rows come from outboxRows(): columns payload,
 * topic and n (the envelope's position).
 */
export function outboxInsert(payload: string, envelope = payload): string {
  return `INSERT INTO outbox (event_id, topic, key, type, payload)
       SELECT (${envelope}->>'id')::uuid, topic, ${envelope}->>'key', ${envelope}->>'type', ${payload}`;
}

/** A FROM item of the prepared envelopes (see Outbox.prepare): alias(payload jsonb, n bigint, topic text). */
export function outboxRows(topicsParam: string, jsonParam: string, alias: string): string {
  return `(SELECT e.payload, e.n, t.topic FROM jsonb_array_elements(${jsonParam}::jsonb) WITH ORDINALITY AS e(payload, n)
         JOIN unnest(${topicsParam}::text[]) WITH ORDINALITY AS t(topic, n) USING (n)) AS ${alias}`;
}
