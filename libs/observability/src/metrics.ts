import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per application instance (tests run several in one process). Libraries register
 * their own figures here; `/metrics` serves it in Prometheus text format.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly consumed: Counter<'topic' | 'outcome'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly eventAge: Histogram<'topic'>;
  readonly outboxPublished: Counter;
  readonly timersFired: Counter<'kind' | 'outcome'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'klaxon_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'klaxon_http_request_duration_seconds',
      help: 'Time to answer an HTTP request',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.consumed = new Counter({
      name: 'klaxon_consumer_messages_total',
      help: 'Kafka messages consumed, by outcome (handled, duplicate, dead-lettered, ignored)',
      labelNames: ['topic', 'outcome'],
      registers: [this.registry],
    });
    this.consumerLag = new Gauge({
      name: 'klaxon_consumer_lag_messages',
      help: 'Messages behind the partition high watermark when the last batch was handled',
      labelNames: ['topic', 'partition'],
      registers: [this.registry],
    });
    this.eventAge = new Histogram({
      name: 'klaxon_consumer_event_age_seconds',
      help: 'Age of an event (now minus occurredAt) when this service handled it',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.outboxPublished = new Counter({
      name: 'klaxon_outbox_published_total',
      help: 'Outbox rows published to Kafka',
      registers: [this.registry],
    });
    this.timersFired = new Counter({
      name: 'klaxon_timers_fired_total',
      help: 'Durable timers fired, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers: [this.registry],
    });
  }

  /** A gauge whose value is read when scraped (outbox depth, due timers). */
  gauge(name: string, help: string, read: () => Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // A scrape while the database is down must still answer; the readiness check says why.
        }
      },
    });
  }
}
