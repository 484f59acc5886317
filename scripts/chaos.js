#!/usr/bin/env node
// `npm run chaos [-- --short] [--seed N] [--minutes M]`: the whole stack, two instances of every
// service, a storm of alerts and a seeded schedule of faults; prints what was lost or doubled and
// exits 1 if anything was (chaos/run.ts). It starts its own Kafka broker and PostgreSQL cluster on
// free local ports and removes both at the end.
import { ensureDeps } from './ensure-deps.js';

ensureDeps();
const { build } = await import('./build.js');
await build({ quiet: true });
const { default: chaos } = await import('../dist/chaos/run.js');
process.exit(await chaos(process.argv.slice(2)));
