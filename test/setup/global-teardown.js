import pg from 'pg';
import * as runtime from '../../deploy/local/runtime.js';

/** Drops this run's databases and stops what the setup started. */
export default async function globalTeardown() {
  const state = globalThis.__KLAXON_TEST_STATE__;
  if (!state) return;
  const client = new pg.Client({ connectionString: `${process.env.KLAXON_TEST_PG}/postgres` });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`klx_${state.runId}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } catch (err) {
    process.stderr.write(`[teardown] could not drop test databases: ${err.message}\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
  if (state.startedKafka) await runtime.stopKafka({ port: state.kafkaPort, removeData: true });
  for (const c of state.containers) await c.stop().catch(() => undefined);
}
