import type { EntityManager } from 'typeorm';
import { buildEvent, topicOf, type Envelope, type EventData, type EventInput, type EventType } from '#libs/contracts';
import type { Clock } from '#libs/clock';
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
    const values: unknown[] = [];
    const rows = envelopes.map((env, i) => {
      values.push(env.id, topicOf(env.type as EventType, this.settings.topicPrefix), env.key, env.type, JSON.stringify(env));
      const b = i * 5;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb)`;
    });
    await manager.query(`INSERT INTO outbox (event_id, topic, key, type, payload) VALUES ${rows.join(', ')}`, values);
    return envelopes;
  }
}
