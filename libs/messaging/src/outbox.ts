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

  async publishMany(
    manager: EntityManager,
    /** correlationId: for writers that batch several requests into one transaction (the default is the current one). */
    events: { type: EventType; key: string; data: unknown; id?: string; correlationId?: string }[],
  ): Promise<Envelope[]> {
    if (events.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.publish must run inside the transaction that changes the state it announces');
    }
    const correlationId = correlationIdOrNew();
    const occurredAt = this.settings.clock.now();
    const envelopes = events.map((e) =>
      buildEvent(e.type, e.key, e.data as never, { producer: this.settings.producer, correlationId: e.correlationId ?? correlationId, occurredAt, id: e.id }),
    );
    // One statement shape whatever the batch size, prepared once per connection; the envelopes go
    // as one JSON array (PostgreSQL parses it once) and keep their order in the outbox's ids.
    await queryPrepared(
      manager,
      'klaxon_outbox_insert',
      `INSERT INTO outbox (event_id, topic, key, type, payload)
       SELECT (e.payload->>'id')::uuid, t.topic, e.payload->>'key', e.payload->>'type', e.payload
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(payload, n)
       JOIN unnest($1::text[]) WITH ORDINALITY AS t(topic, n) USING (n)
       ORDER BY n`,
      [envelopes.map((env) => topicOf(env.type as EventType, this.settings.topicPrefix)), JSON.stringify(envelopes)],
    );
    return envelopes;
  }
}
