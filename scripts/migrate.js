#!/usr/bin/env node
// `npm run migrate`: applies every service's pending migrations (services also do this at start
// unless MIGRATE_ON_START=false). Uses DATABASE_URL's server or the local runtime's PostgreSQL;
// each service has its own database, klaxon_<service>.
import { ensureDeps } from './ensure-deps.js';

ensureDeps();
const { build } = await import('./build.js');
await build({ quiet: true });
const runtime = await import('../deploy/local/runtime.js');
const { openDatabase, runMigrations } = await import('../dist/libs/database/src/index.js');
const defs = await Promise.all(
  ['alert-ingest', 'oncall', 'notifier', 'incidents'].map(async (name) => {
    const mod = await import(`../dist/apps/${name}/src/service.js`);
    return Object.values(mod)[0];
  }),
);
const { baseUrl } = await runtime.ensurePostgres();
for (const def of defs) {
  const ds = await openDatabase({
    url: `${baseUrl}/klaxon_${def.name.replace('-', '_')}`,
    applicationName: 'klaxon-migrate',
    entities: def.entities,
    migrations: def.migrations,
  });
  const applied = await runMigrations(ds);
  console.log(`${def.name}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  await ds.destroy();
}
