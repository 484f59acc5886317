import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { z } from 'zod';
import { TokenService } from '#libs/auth';
import { OffsetClock, SystemClock, type Clock } from '#libs/clock';
import { ConfigError, parseConfig, type CommonConfig } from '#libs/config';
import type { TopicId } from '#libs/contracts';
import { openDatabase, runMigrations } from '#libs/database';
import {
  KafkaEventTransport,
  Outbox,
  OutboxRelay,
  PgListener,
  TimerRunner,
  Timers,
  armCrashPoint,
  createKafka,
  createProducer,
  ensureTopics,
  errorMessage,
  registerHousekeeping,
  DailyJobs,
  sleep,
} from '#libs/messaging';
import { Metrics, PinoNestLogger, createLogger } from '#libs/observability';
import { installFastLane, type FastRoute } from './fast-lane.js';
import { bodyParsers, installBodyTimeout, requestContext } from './http.js';
import { PlatformModule } from './platform.module.js';
import { Runtime } from './runtime.js';

export interface ServiceDefinition<S extends z.ZodObject = z.ZodObject> {
  /** alert-ingest, oncall, notifier or incidents: names logs, metrics, the consumer group and the producer. */
  name: string;
  /** The service's environment schema (CommonEnv extended). */
  env: S;
  /** The service's own modules, given its typed config. */
  module: (config: z.output<S>) => DynamicModule | Type<unknown>;
  entities: Function[];
  migrations: Function[];
  /** Topics whose events this service handles with @EventPattern. */
  consumes: TopicId[];
  /** Hot JSON routes answered in the fast lane (see fast-lane.ts), given the initialised app. */
  fastRoutes?: (app: INestApplication) => FastRoute[];
  /** Issues tokens (oncall): needs AUTH_SIGNING_KEY. Every other service refuses to start with one. */
  signsTokens?: boolean;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Tests inject a clock they can move. */
  clock?: Clock;
}

export interface RunningService {
  app: INestApplication;
  runtime: Runtime;
  url: string;
  port: number;
  close(): Promise<void>;
}

@Module({})
class ServiceRootModule {}

/**
 * Boots a service: validates config, opens its database (running migrations), connects to Kafka,
 * and starts HTTP, the event consumer, the outbox relay and the timer runner. Kafka being down
 * does not stop the boot: the outbox holds events and /health/ready reports it.
 */
export async function startService<S extends z.ZodObject>(def: ServiceDefinition<S>, options: StartOptions = {}): Promise<RunningService> {
  const config = parseConfig(def.env, options.env ?? process.env) as z.output<S> & CommonConfig;
  checkSigningKey(def, config);
  armCrashPoint(config.CRASH_AT);
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const clock = options.clock ?? (config.TEST_CLOCK ? new OffsetClock() : new SystemClock());
  const metrics = new Metrics(def.name);

  const dataSource = await retry(logger, 'PostgreSQL', () =>
    openDatabase({
      url: config.DATABASE_URL,
      applicationName: `klaxon-${def.name}`,
      entities: def.entities,
      migrations: def.migrations,
      poolSize: config.DATABASE_POOL_SIZE,
    }),
  );
  if (config.MIGRATE_ON_START) await runMigrations(dataSource, logger);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `klaxon-${def.name}`, logger });
  const producer = createProducer(kafka);
  const admin = kafka.admin();
  const listener = new PgListener(config.DATABASE_URL, logger);
  const outbox = new Outbox({ producer: def.name, topicPrefix: config.KAFKA_TOPIC_PREFIX, clock });
  const timers = new Timers(clock);
  const timerRunner = new TimerRunner(dataSource, clock, listener, metrics, logger);
  const relay = new OutboxRelay(dataSource, producer, listener, metrics, logger);
  const tokens = new TokenService({ publicKeys: config.AUTH_PUBLIC_KEYS, signingKey: config.AUTH_SIGNING_KEY }, config.BOOTSTRAP_ADMIN_TOKEN);
  const daily = new DailyJobs(timerRunner, timers, dataSource, clock);
  const runtime = new Runtime(
    def.name,
    config,
    logger,
    clock,
    metrics,
    dataSource,
    kafka,
    producer,
    admin,
    listener,
    outbox,
    timers,
    timerRunner,
    relay,
    tokens,
    daily,
  );

  const kafkaStop = new AbortController();
  const kafkaReady = connectKafka(runtime, kafkaStop.signal);

  const app = await NestFactory.create(
    { module: ServiceRootModule, imports: [PlatformModule.forRoot(runtime), def.module(config)] },
    { logger: new PinoNestLogger(logger), bodyParser: false, abortOnError: false },
  );
  app.use(requestContext(metrics, logger));
  app.use(...bodyParsers());

  let transport: KafkaEventTransport | undefined;
  if (def.consumes.length) {
    transport = new KafkaEventTransport({
      kafka,
      // The topic prefix keeps deployments (and test worlds sharing a broker) in separate groups:
      // one group per service name would rebalance every world whenever any of them starts or stops.
      groupId: `${config.KAFKA_TOPIC_PREFIX}klaxon-${def.name}`,
      topics: def.consumes,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      dataSource,
      producer,
      metrics,
      logger,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      eventsPerTransaction: config.KAFKA_EVENTS_PER_TRANSACTION,
    });
    app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  }
  // OpenAPI: the document at /api/docs-json, a browsable page at /api/docs.
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`Klaxon ${def.name}`)
      .setDescription(`The ${def.name} service's HTTP API. Management endpoints take "Authorization: Bearer <token>".`)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  await app.init();
  await listener.start();
  await registerHousekeeping(runtime.daily);
  relay.start();
  timerRunner.start();
  // The consumer starts once topics exist; until Kafka answers, HTTP still serves and events wait in the outbox.
  let closing: Promise<void> | undefined;
  const consumerStarted = kafkaReady
    .then(() => (closing ? undefined : app.startAllMicroservices()))
    .catch((err) => logger.error({ err: errorMessage(err) }, 'event consumer failed to start'));

  installFastLane(app.getHttpServer() as Server, def.fastRoutes?.(app) ?? [], metrics, logger);
  installBodyTimeout(app.getHttpServer() as Server, config.HTTP_BODY_TIMEOUT_SECONDS * 1000);
  const server: Server = await app.listen(config.PORT, config.HOST);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  // Always written, whatever LOG_LEVEL says: supervisors (the start command, tests) read the port from it.
  logger.child({}, { level: 'info' }).info({ port, topicPrefix: config.KAFKA_TOPIC_PREFIX || undefined }, `${def.name} listening on ${url}`);

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing work in hand');
      kafkaStop.abort();
      // The consumer may still be retrying its start against an unreachable broker: close it first.
      const consumerClosed = transport?.close();
      await consumerStarted;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await consumerClosed;
      await timerRunner.stop();
      await relay.stop();
      await app.close();
      await listener.stop();
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      logger.info('stopped');
    })());

  return { app, runtime, url, port, close };
}

async function connectKafka(runtime: Runtime, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await runtime.admin.connect();
      await ensureTopics(runtime.admin, runtime.config.KAFKA_TOPIC_PREFIX);
      await runtime.producer.connect();
      return;
    } catch (err) {
      runtime.logger.warn({ err: errorMessage(err), attempt }, 'Kafka not reachable yet; retrying');
      await sleep(Math.min(500 * attempt, 5000), signal);
    }
  }
}

async function retry<T>(logger: ReturnType<typeof createLogger>, what: string, fn: () => Promise<T>, attempts = 30): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      logger.warn({ err: errorMessage(err), attempt: i }, `${what} not reachable yet; retrying`);
      await sleep(Math.min(250 * i, 2000));
    }
  }
}

/** For a service's main.ts: start, stop cleanly on SIGINT/SIGTERM, and exit with one clear line on bad config. */
export async function runMain<S extends z.ZodObject>(def: ServiceDefinition<S>): Promise<void> {
  let running: RunningService;
  try {
    running = await startService(def);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: configuration error: ${err.message}\n`);
    } else {
      process.stderr.write(`${def.name}: failed to start: ${errorMessage(err)}\n`);
    }
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.runtime.logger.info({ signal }, 'signal received');
    const force = setTimeout(() => process.exit(1), 20000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`${def.name}: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const supervisor = running.runtime.config.SUPERVISOR_PID;
  if (supervisor) {
    setInterval(() => {
      if (!processAlive(supervisor)) stop(`supervisor ${supervisor} gone`);
    }, 1000).unref();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only the service that issues tokens holds the private key, and its public half is among the keys everyone checks with. */
function checkSigningKey(def: ServiceDefinition, config: CommonConfig): void {
  const key = config.AUTH_SIGNING_KEY;
  if (!def.signsTokens) {
    if (key) throw new ConfigError(`AUTH_SIGNING_KEY is set, but only oncall signs tokens: give ${def.name} AUTH_PUBLIC_KEYS only`);
    return;
  }
  if (!key) throw new ConfigError('AUTH_SIGNING_KEY is missing: oncall signs tokens with it (npm run keys makes a key pair)');
  if (!config.AUTH_PUBLIC_KEYS.some((k) => k.kid === key.kid && k.x === key.x))
    throw new ConfigError(`AUTH_PUBLIC_KEYS must include the public half of AUTH_SIGNING_KEY (kid "${key.kid}"), or no service would accept its tokens`);
}
