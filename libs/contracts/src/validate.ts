import { z } from 'zod';
import { EnvelopeSchema, newEventId, type Envelope } from './envelope.js';
import { Events, isEventType, type EventData, type EventInput, type EventType } from './events.js';
import { topicName } from './topics.js';

/** An event that does not match its contract. Never retried: it goes to the dead-letter topic. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export interface BuildOptions {
  producer: string;
  correlationId: string;
  /** Defaults to now; tests and timers pass the clock's time. */
  occurredAt?: Date;
  id?: string;
}

/** Builds and validates an envelope on the producing side. Throws InvalidEventError on a bad payload. */
export function buildEvent<T extends EventType>(type: T, key: string, data: EventInput<T>, options: BuildOptions): Envelope<EventData<T>> {
  const def = Events[type];
  const parsed = def.schema.safeParse(data);
  if (!parsed.success) throw new InvalidEventError(`${type}: ${describe(parsed.error)}`);
  return {
    id: options.id ?? newEventId(),
    type,
    version: def.version,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    producer: options.producer,
    correlationId: options.correlationId,
    key,
    data: parsed.data as EventData<T>,
  };
}

/** Parses and validates an envelope on the consuming side. Throws InvalidEventError. */
export function parseEvent(raw: Buffer | string | null): Envelope {
  if (raw === null) throw new InvalidEventError('message has no value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    throw new InvalidEventError('message value is not JSON');
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new InvalidEventError(`bad envelope: ${describe(envelope.error)}`);
  const { type, version } = envelope.data;
  if (!isEventType(type)) throw new InvalidEventError(`unknown event type "${type}"`);
  const def = Events[type];
  if (version !== def.version) throw new InvalidEventError(`${type}: unsupported version ${version}`);
  const data = def.schema.safeParse(envelope.data.data);
  if (!data.success) throw new InvalidEventError(`${type}: ${describe(data.error)}`);
  return { ...envelope.data, data: data.data };
}

/** The topic an event type is published to, under a deployment prefix. */
export function topicOf(type: EventType, prefix = ''): string {
  return topicName(Events[type].topic, prefix);
}

/** Narrowing helper for handlers: `isEvent(e, 'alert.triggered')` types `e.data`. */
export function isEvent<T extends EventType>(e: Envelope, type: T): e is Envelope<EventData<T>> {
  return e.type === type;
}
