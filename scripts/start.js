#!/usr/bin/env node
// `npm start`: the whole stack on this machine, no Docker needed. Installs dependencies, builds,
// starts Kafka (KRaft, from Kafka's own jars) and uses PostgreSQL on 127.0.0.1:5432 (or starts a
// throwaway cluster), runs the four services (migrations run at their start), creates a small
// demo, and prints where to send an alert. Ctrl-C stops everything it started.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDeps, ROOT } from './ensure-deps.js';
import { newSigningKeys } from './signing-keys.js';

ensureDeps();
const { build } = await import('./build.js');
await build({ quiet: true });
const runtime = await import('../deploy/local/runtime.js');
const { ServiceProcess, SERVICES, seedDemo } = await import('../dist/libs/devstack/src/index.js');

const home = runtime.klaxonHome();
fs.mkdirSync(home, { recursive: true });
const say = (msg) => process.stdout.write(`${msg}\n`);

// Secrets for this machine's dev stack, kept so tokens stay valid across restarts.
const secretsFile = path.join(home, 'dev-secrets.json');
const secrets = fs.existsSync(secretsFile)
  ? JSON.parse(fs.readFileSync(secretsFile, 'utf8'))
  : { authSecret: randomBytes(32).toString('hex'), adminToken: `klx_admin_${randomBytes(18).toString('hex')}` };
// Token keys (Ed25519): oncall signs, the others only check. Added to secrets kept from before they existed.
secrets.tokenKeys ??= newSigningKeys(`dev-${randomBytes(3).toString('hex')}`);
fs.writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });

const kafkaPort = Number(process.env.KAFKA_PORT ?? 9092);
// Each service's database is <prefix>_<service>: klaxon_oncall and so on.
const dbPrefix = process.env.KLAXON_DB_PREFIX ?? 'klaxon';
const base = Number(process.env.KLAXON_PORT_BASE ?? 3001);
const ports = { 'alert-ingest': base, oncall: base + 1, notifier: base + 2, incidents: base + 3 };
for (const [name, port] of Object.entries(ports)) {
  if (await runtime.portOpen(port)) {
    say(`Port ${port} (for ${name}) is already in use. Stop what uses it, or set KLAXON_PORT_BASE to another first port.`);
    process.exit(1);
  }
}

const started = Date.now();
say('Starting Klaxon: PostgreSQL, Kafka, alert-ingest, oncall, notifier, incidents...');
const pg = await runtime.ensurePostgres();
const kafka = await runtime.startKafka({ port: kafkaPort, controllerPort: Number(process.env.KAFKA_CONTROLLER_PORT ?? kafkaPort + 1) });
say(`  Kafka on ${kafka.brokers}${kafka.reused ? ' (already running)' : ` (up in ${(kafka.startedMs / 1000).toFixed(1)} s)`}; PostgreSQL at ${pg.baseUrl}`);

// Our broker lets a consumer's session be short: a killed service's partitions move to its twin
// after 3 s instead of 10 (npm run chaos measures it). A broker started by an older checkout keeps
// Kafka's 6 s minimum, and the default stays.
const brokerConfig = path.join(kafka.dir, 'server.properties');
const shortSessions = fs.existsSync(brokerConfig) && /^group\.min\.session\.timeout\.ms=1000$/m.test(fs.readFileSync(brokerConfig, 'utf8'));

const logs = path.join(home, 'logs');
const processes = SERVICES.map(
  (name) =>
    new ServiceProcess({
      name,
      root: ROOT,
      logFile: path.join(logs, `${name}.log`),
      env: {
        NODE_ENV: 'development',
        PORT: String(ports[name]),
        // The local stack serves this machine only (KLAXON_HOST=0.0.0.0 to serve others, on a network you trust).
        HOST: process.env.KLAXON_HOST ?? '127.0.0.1',
        DATABASE_URL: `${pg.baseUrl}/${dbPrefix}_${name.replace('-', '_')}`,
        KAFKA_BROKERS: kafka.brokers,
        AUTH_SECRET: secrets.authSecret,
        AUTH_PUBLIC_KEYS: JSON.stringify(secrets.tokenKeys.publicKeys),
        ...(name === 'oncall' ? { AUTH_SIGNING_KEY: JSON.stringify(secrets.tokenKeys.signingKey) } : {}),
        BOOTSTRAP_ADMIN_TOKEN: secrets.adminToken,
        // Each service's own address: notifier's links and Twilio callbacks, oncall's calendar feeds.
        PUBLIC_URL: `http://localhost:${ports[name]}`,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        ...(shortSessions && !process.env.KAFKA_SESSION_TIMEOUT_MS ? { KAFKA_SESSION_TIMEOUT_MS: '3000' } : {}),
      },
    }),
);

let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  say('\nStopping Klaxon...');
  await Promise.all(processes.map((p) => p.stop('SIGTERM')));
  if (!kafka.reused) await runtime.stopKafka({ port: kafkaPort });
  if (pg.started) runtime.stopPostgres();
  say('Stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  await Promise.all(processes.map((p) => p.start()));
  await Promise.all(processes.map((p) => p.waitReady()));
} catch (err) {
  say(`A service failed to start: ${err.message}\nLogs: ${logs}`);
  await stopAll(1);
}
for (const p of processes) {
  p.waitExit().then((code) => {
    if (!stopping) {
      say(`${p.name} exited unexpectedly (${code}); see ${p.options.logFile}. Stopping the rest.`);
      void stopAll(1);
    }
  });
}

/** What the banner says of the inbox: which channels are captured there, as notifier decides (docs/notifier.md). */
function captureNote() {
  const e = process.env;
  const real = [
    e.SMTP_URL && 'email (SMTP)',
    e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM_NUMBER && 'SMS and voice (Twilio)',
    e.FCM_SERVICE_ACCOUNT && 'push (FCM)',
  ].filter(Boolean);
  if (real.length === 0) return '(capture mode: no email/SMS/push accounts set up; its Acknowledge link acknowledges the incident)';
  if (real.length === 3) return `(no capture: ${real.join(', ')} go to the real providers)`;
  return `(${real.join(', ')} go to the real providers; the other channels land in this inbox)`;
}

const demoFile = path.join(home, 'demo.json');
const known = fs.existsSync(demoFile) ? JSON.parse(fs.readFileSync(demoFile, 'utf8')) : undefined;
const url = (name) => `http://localhost:${ports[name]}`;
const demo = await seedDemo({ oncallUrl: url('oncall'), ingestUrl: url('alert-ingest'), adminToken: secrets.adminToken, known });
fs.writeFileSync(demoFile, JSON.stringify(demo, null, 2), { mode: 0o600 });

say(`
Klaxon is up (${((Date.now() - started) / 1000).toFixed(1)} s). Demo: service "Checkout API", on call: Dana Demo <${demo.userEmail}>.

Send an alert (PagerDuty Events API v2):

  curl -sS -X POST ${url('alert-ingest')}/v2/enqueue -H 'Content-Type: application/json' \\
    -d '{"routing_key":"${demo.integrationKey}","event_action":"trigger","dedup_key":"disk-full-db1","payload":{"summary":"Disk full on db1","source":"db1","severity":"critical"}}'

Then read the page in the inbox: ${url('notifier')}/inbox
  ${captureNote()}
Incidents:  curl -sS ${url('incidents')}/api/v1/incidents -H 'Authorization: Bearer ${secrets.adminToken}'
Resolve it: same curl as above with "event_action":"resolve"

Services: alert-ingest ${url('alert-ingest')}  oncall ${url('oncall')}  notifier ${url('notifier')}  incidents ${url('incidents')}
Logs: ${logs}    Admin token: ${secrets.adminToken}
Press Ctrl-C to stop everything.`);
