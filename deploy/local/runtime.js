#!/usr/bin/env node
// The Docker-free local runtime: a real single-node Apache Kafka (KRaft) from Kafka's own jars,
// fetched through Maven, and PostgreSQL (the server on 127.0.0.1:5432, or a throwaway cluster
// started from the installed binaries when none answers).
//
//   node deploy/local/runtime.js up      start (idempotent); prints the addresses
//   node deploy/local/runtime.js down    stop what `up` started (idempotent)
//   node deploy/local/runtime.js status
//
// Ports and places: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KLAXON_HOME (.klaxon),
// PGPORT_FALLBACK (55432, for the throwaway cluster). Data lives under KLAXON_HOME (git-ignored).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KAFKA_POM = path.join(ROOT, 'deploy/kafka/pom.xml');
const KAFKA_LIBS = path.join(ROOT, 'deploy/kafka/target/libs');

export function klaxonHome() {
  return path.resolve(ROOT, process.env.KLAXON_HOME ?? '.klaxon');
}

function log(msg) {
  process.stderr.write(`[runtime] ${msg}\n`);
}

export function portOpen(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(what, check, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s`);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---- Kafka ------------------------------------------------------------------------------------

/** Fetches Kafka's jars through Maven once (they land in deploy/kafka/target/libs). */
export function ensureKafkaJars() {
  if (fs.existsSync(KAFKA_LIBS) && fs.readdirSync(KAFKA_LIBS).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) return;
  log('fetching Apache Kafka jars through Maven (first run only)...');
  const res = spawnSync('mvn', ['-q', '-B', '-f', KAFKA_POM, 'package'], { stdio: 'inherit' });
  if (res.error) throw new Error(`cannot run Maven (mvn): ${res.error.message}. Install Maven and Java 17, or set KAFKA_BROKERS to a running broker.`);
  if (res.status !== 0) throw new Error('Maven could not fetch the Kafka jars (see its output above)');
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java';
}

function kafkaDir(port) {
  return path.join(klaxonHome(), `kafka-${port}`);
}

function writeKafkaConfig(dir, port, controllerPort) {
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'server.properties'),
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${data}`,
      // One node: the internal topics cannot have more replicas than brokers.
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=4',
      'min.insync.replicas=1',
      'default.replication.factor=1',
      // Tests and the dev stack join groups constantly; no need to wait for more members.
      'group.initial.rebalance.delay.ms=0',
      // Kafka's default minimum session timeout is 6 s; the chaos run measures shorter ones.
      'group.min.session.timeout.ms=1000',
      // Topics are created explicitly, with the partition counts the services need.
      'auto.create.topics.enable=false',
      'delete.topic.enable=true',
      'num.partitions=1',
      'log.retention.hours=168',
      'log.segment.bytes=67108864',
      'num.network.threads=2',
      'num.io.threads=4',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'log4j.properties'),
    [
      'log4j.rootLogger=WARN, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${path.join(dir, 'kafka.log')}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaRaftServer=INFO',
      '',
    ].join('\n'),
  );
}

/**
 * Starts Kafka (KRaft, one node) unless one of ours already answers on the port.
 * `fresh: true` wipes its data first. Returns the broker address and start time.
 */
export async function startKafka({ port = 9092, controllerPort = port + 1, fresh = false, heapMb = 512 } = {}) {
  const dir = kafkaDir(port);
  const pidFile = path.join(dir, 'kafka.pid');
  const existing = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
  if (existing && alive(existing) && !fresh && (await portOpen(port))) {
    return { brokers: `127.0.0.1:${port}`, pid: existing, startedMs: 0, reused: true, dir };
  }
  if (existing && alive(existing)) await stopKafka({ port });
  if (await portOpen(port)) throw new Error(`port ${port} is taken by another program; set KAFKA_PORT to a free port`);
  if (await portOpen(controllerPort)) throw new Error(`port ${controllerPort} is taken by another program; set KAFKA_CONTROLLER_PORT`);
  ensureKafkaJars();
  if (fresh) fs.rmSync(dir, { recursive: true, force: true });
  writeKafkaConfig(dir, port, controllerPort);
  const cp = `${KAFKA_LIBS}/*`;
  const log4j = `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`;
  const started = Date.now();
  if (!fs.existsSync(path.join(dir, 'data/meta.properties'))) {
    const format = spawnSync(
      javaBin(),
      [log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', path.join(dir, 'server.properties'), '--ignore-formatted'],
      { encoding: 'utf8' },
    );
    if (format.error) throw new Error(`cannot run Java: ${format.error.message}. Install Java 17 or set KAFKA_BROKERS.`);
    if (format.status !== 0) throw new Error(`Kafka storage format failed: ${format.stderr || format.stdout}`);
  }
  const out = fs.openSync(path.join(dir, 'kafka.out'), 'a');
  const child = spawn(
    javaBin(),
    [
      `-Xms${Math.min(256, heapMb)}m`,
      `-Xmx${heapMb}m`,
      '-XX:+UseG1GC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      log4j,
      '-cp',
      cp,
      'kafka.Kafka',
      path.join(dir, 'server.properties'),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  try {
    await waitFor(
      'Kafka',
      async () => {
        if (!alive(child.pid)) throw new Error(`Kafka exited at start; see ${path.join(dir, 'kafka.out')} and kafka.log`);
        return portOpen(port);
      },
      60000,
    );
  } catch (err) {
    await stopKafka({ port });
    throw err;
  }
  return { brokers: `127.0.0.1:${port}`, pid: child.pid, startedMs: Date.now() - started, reused: false, dir };
}

export async function stopKafka({ port = 9092, removeData = false } = {}) {
  const pidFile = path.join(kafkaDir(port), 'kafka.pid');
  if (!fs.existsSync(pidFile)) {
    if (removeData) fs.rmSync(kafkaDir(port), { recursive: true, force: true });
    return false;
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const stopped = Date.now();
    while (alive(pid) && Date.now() - stopped < 15000) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
  if (removeData) fs.rmSync(kafkaDir(port), { recursive: true, force: true });
  return true;
}

// ---- PostgreSQL --------------------------------------------------------------------------------

/**
 * A Kafka cluster id: 16 random bytes, base64url. One that starts with "-" would be read by the
 * storage tool as an option (it failed one start in 64 with "argument --cluster-id/-t: expected one
 * argument"), so those are drawn again.
 */
function clusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Returns a base URL (no database) for a PostgreSQL server: DATABASE_URL's server when set,
 * 127.0.0.1:5432 when it answers, else a throwaway cluster started from the installed binaries.
 */
export async function ensurePostgres() {
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = '/';
    return { baseUrl: u.toString().replace(/\/$/, ''), started: false };
  }
  if (await portOpen(5432)) return { baseUrl: 'postgres://postgres@127.0.0.1:5432', started: false };
  const port = Number(process.env.PGPORT_FALLBACK ?? 55432);
  if (await portOpen(port)) return { baseUrl: `postgres://postgres@127.0.0.1:${port}`, started: false };
  const bin = findPostgresBin();
  if (!bin) throw new Error('no PostgreSQL answers on 127.0.0.1:5432 and no PostgreSQL binaries were found; install PostgreSQL 15 or set DATABASE_URL');
  const dir = path.join(klaxonHome(), 'postgres');
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const run = (cmd, args) => {
    const full = [...asUser, path.join(bin, cmd), ...args];
    const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error?.message}`);
  };
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    fs.mkdirSync(dir, { recursive: true });
    if (asUser.length) spawnSync('chown', ['-R', 'postgres', dir]);
    run('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  }
  run('pg_ctl', ['-D', dir, '-l', path.join(dir, 'server.log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on`, '-w', 'start']);
  return { baseUrl: `postgres://postgres@127.0.0.1:${port}`, started: true, dir };
}

export function stopPostgres() {
  const dir = path.join(klaxonHome(), 'postgres');
  const bin = findPostgresBin();
  if (!bin || !fs.existsSync(path.join(dir, 'postmaster.pid'))) return false;
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const full = [...asUser, path.join(bin, 'pg_ctl'), '-D', dir, '-m', 'fast', 'stop'];
  spawnSync(full[0], full.slice(1), { stdio: 'ignore' });
  return true;
}

function findPostgresBin() {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(base, v, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

// ---- CLI ---------------------------------------------------------------------------------------

async function main() {
  const cmd = process.argv[2] ?? 'status';
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  const controllerPort = Number(process.env.KAFKA_CONTROLLER_PORT ?? port + 1);
  if (cmd === 'up') {
    const pg = await ensurePostgres();
    const kafka = await startKafka({ port, controllerPort });
    console.log(`KAFKA_BROKERS=${kafka.brokers}${kafka.reused ? ' (already running)' : ` (started in ${kafka.startedMs} ms)`}`);
    console.log(`POSTGRES=${pg.baseUrl}${pg.started ? ' (throwaway cluster started)' : ''}`);
  } else if (cmd === 'down') {
    const k = await stopKafka({ port });
    const p = stopPostgres();
    console.log(`kafka: ${k ? 'stopped' : 'was not running'}; throwaway postgres: ${p ? 'stopped' : 'not ours'}`);
  } else if (cmd === 'status') {
    console.log(`kafka 127.0.0.1:${port}: ${(await portOpen(port)) ? 'up' : 'down'}`);
    console.log(`postgres 127.0.0.1:5432: ${(await portOpen(5432)) ? 'up' : 'down'}`);
  } else {
    console.error('usage: node deploy/local/runtime.js up|down|status');
    process.exit(2);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`runtime: ${err.message}`);
    process.exit(1);
  });
}
