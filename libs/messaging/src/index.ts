export { armCrashPoint, crashPoint } from './crash.js';
export { isTransientInfrastructureError, errorMessage, sleep } from './errors.js';
export { createKafka, createProducer, ensureTopics, type KafkaSettings } from './kafka.js';
export { PgListener, Wakeup } from './listener.js';
export { Outbox, type OutboxSettings } from './outbox.js';
export { OutboxRelay, type RelaySettings } from './relay.js';
export { Timers, TimerRunner, type Timer, type TimerHandler, type TimerRunnerSettings } from './timers.js';
export { KafkaEventTransport, EventContext, OnEvent, type KafkaTransportSettings } from './transport.js';
export { MessagingTables1764200000000 } from './migration.js';
