// Prepares real infrastructure once per test run:
//  - builds dist/ (end-to-end tests run the services as separate processes);
//  - Kafka: KAFKA_BROKERS when set, else a fresh single-node KRaft broker from Kafka's jars
//    (deploy/local), else, on a machine with Docker, a Testcontainers Kafka;
//  - PostgreSQL: DATABASE_URL's server when set, else 127.0.0.1:5432, else a throwaway cluster,
//    else a Testcontainers PostgreSQL.
// Every test then makes its own databases and topic prefix under this run's id, so runs and tests
// never see each other's data.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { build } from '../../scripts/build.js';
import * as runtime from '../../deploy/local/runtime.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  const started = Date.now();
  await build({ quiet: true });
  const runId = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const state = { runId, startedKafka: false, containers: [] };

  let brokers = process.env.KAFKA_BROKERS;
  let pgBase;
  const haveJava = spawnSync('java', ['-version']).status === 0 && spawnSync('mvn', ['-v']).status === 0;

  if (!brokers && haveJava) {
    // A free port unless told otherwise, so two test runs on one machine never collide.
    const port = Number(process.env.KLAXON_TEST_KAFKA_PORT ?? (await freePort()));
    const kafka = await runtime.startKafka({ port, controllerPort: await freePort(), fresh: true });
    brokers = kafka.brokers;
    state.startedKafka = true;
    state.kafkaPort = port;
    process.stderr.write(`\n[setup] Kafka (KRaft) started on ${brokers} in ${kafka.startedMs} ms\n`);
  }
  try {
    pgBase = (await runtime.ensurePostgres()).baseUrl;
  } catch (err) {
    if (haveJava && brokers) throw err;
  }
  if (!brokers || !pgBase) {
    // A laptop with Docker but no Java/PostgreSQL: fall back to Testcontainers.
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const { KafkaContainer } = await import('@testcontainers/kafka');
    if (!pgBase) {
      const pg = await new PostgreSqlContainer('postgres:15-alpine').withUsername('postgres').withPassword('postgres').start();
      state.containers.push(pg);
      pgBase = `postgres://postgres:postgres@${pg.getHost()}:${pg.getPort()}`;
    }
    if (!brokers) {
      const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.6.1').withKraft().start();
      state.containers.push(kafka);
      brokers = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
    }
  }

  process.env.KLAXON_TEST_RUN = runId;
  process.env.KLAXON_TEST_KAFKA = brokers;
  if (process.env.KAFKA_BROKERS) process.env.KLAXON_TEST_KAFKA_SHARED = '1';
  process.env.KLAXON_TEST_PG = pgBase;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  globalThis.__KLAXON_TEST_STATE__ = state;
  process.stderr.write(`[setup] run ${runId}: PostgreSQL ${pgBase}, Kafka ${brokers}, ready in ${Date.now() - started} ms\n`);
}
