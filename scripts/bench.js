#!/usr/bin/env node
// `npm run bench -- <name>`: runs bench/<name>.ts (built to dist/bench) against real Kafka and
// PostgreSQL (KAFKA_BROKERS if set, else a fresh local broker), and prints its figures.
// Benchmarks are measurements, not tests: they print numbers and never fail on them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ensureDeps, ROOT } from './ensure-deps.js';

ensureDeps();
const { build } = await import('./build.js');
await build({ quiet: true });
const available = fs.existsSync(path.join(ROOT, 'bench'))
  ? fs
      .readdirSync(path.join(ROOT, 'bench'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
  : [];
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const runtime = await import('../deploy/local/runtime.js');
let startedPort;
let brokers = process.env.KAFKA_BROKERS;
if (!brokers) {
  startedPort = Number(process.env.KLAXON_BENCH_KAFKA_PORT ?? 49092);
  brokers = (await runtime.startKafka({ port: startedPort, fresh: true })).brokers;
}
const { baseUrl } = await runtime.ensurePostgres();
const runId = `b${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
Object.assign(process.env, { KLAXON_TEST_RUN: runId, KLAXON_TEST_KAFKA: brokers, KLAXON_TEST_PG: baseUrl, KAFKAJS_NO_PARTITIONER_WARNING: '1' });

let code = 0;
try {
  const mod = await import(`../dist/bench/${name}.js`);
  await mod.default(process.argv.slice(3));
} catch (err) {
  console.error(`bench ${name} failed: ${err.stack ?? err.message}`);
  code = 1;
} finally {
  const client = new pg.Client({ connectionString: `${baseUrl}/postgres` });
  await client.connect();
  const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`klx_${runId}_%`]);
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await client.end();
  if (startedPort) await runtime.stopKafka({ port: startedPort });
}
process.exit(code);
