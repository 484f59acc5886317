import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The envelope every Klaxon event travels in. `key` is the Kafka message key (the aggregate id),
 * so all events of one alert or incident land on one partition, in order.
 */
export const EnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string().min(1),
  correlationId: z.string().min(1).max(200),
  key: z.string().min(1).max(300),
  data: z.unknown(),
});

export interface Envelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  producer: string;
  correlationId: string;
  key: string;
  data: T;
}

export function newEventId(): string {
  return randomUUID();
}
