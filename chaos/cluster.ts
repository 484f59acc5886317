import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, freePort } from '#libs/testing';
import type * as Runtime from '../deploy/local/runtime.js';

/** The local runtime (plain JS, outside the build): Kafka from its own jars. */
const runtime = (): Promise<typeof Runtime> => import(pathToFileURL(path.join(REPO_ROOT, 'deploy/local/runtime.js')).href);

/**
 * The chaos run's own infrastructure, so that it may break it: a PostgreSQL cluster in a temporary
 * directory on a free port (never the machine's shared server) and a one-node Kafka broker on a
 * port of its own. Both can be stopped, killed and started again; `close()` removes both.
 */
export class ChaosPostgres {
  private dir = '';
  port = 0;

  get baseUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const bin = postgresBin();
    this.port = await freePort();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klaxon-chaos-pg-'));
    if (asPostgres.length) spawnSync('chown', ['-R', 'postgres', this.dir]);
    run(path.join(bin, 'initdb'), ['-D', this.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    this.pgCtl('start');
    return this;
  }

  /** `pg_ctl restart -m fast`: every connection is cut, the server is back within seconds. */
  restart(): void {
    this.pgCtl('restart');
  }

  /** Like a crash of the server: `pg_ctl stop -m immediate` (no checkpoint; WAL is replayed at the next start). */
  crash(): void {
    run(path.join(postgresBin(), 'pg_ctl'), ['-D', this.dir, '-m', 'immediate', 'stop']);
  }

  /** Starts the server again after a crash (recovery first). */
  startAgain(): void {
    this.pgCtl('start');
  }

  close(): void {
    if (!this.dir) return;
    spawnSync(...cmd(path.join(postgresBin(), 'pg_ctl'), ['-D', this.dir, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }

  private pgCtl(action: 'start' | 'restart'): void {
    const options = `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB`;
    run(path.join(postgresBin(), 'pg_ctl'), ['-D', this.dir, '-l', path.join(this.dir, 'server.log'), '-m', 'fast', '-o', options, '-w', action]);
  }
}

export class ChaosKafka {
  pid = 0;
  brokers = '';

  constructor(readonly port: number) {}

  static async start(): Promise<ChaosKafka> {
    const kafka = new ChaosKafka(await freePort());
    await kafka.up(true);
    return kafka;
  }

  async up(fresh = false): Promise<void> {
    const controllerPort = await freePort();
    const started = await (await runtime()).startKafka({ port: this.port, controllerPort, fresh });
    this.pid = started.pid;
    this.brokers = started.brokers;
  }

  /** A clean stop (SIGTERM: the broker hands over and closes its logs). */
  async stop(): Promise<void> {
    await (await runtime()).stopKafka({ port: this.port });
  }

  /** kill -9: the broker's page cache is kept by the OS, the log recovered at the next start. */
  kill(): void {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async close(): Promise<void> {
    await (await runtime()).stopKafka({ port: this.port, removeData: true });
  }
}

const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];

function cmd(bin: string, args: string[]): [string, string[]] {
  const full = [...asPostgres, bin, ...args];
  return [full[0]!, full.slice(1)];
}

function run(bin: string, args: string[]): void {
  const r = spawnSync(...cmd(bin, args), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} ${args[0]} failed: ${r.stderr || r.stdout || r.error?.message}`);
}

function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (fs.existsSync(path.join(base, v, 'bin/initdb'))) return path.join(base, v, 'bin');
  throw new Error('the chaos run starts a PostgreSQL cluster of its own and needs the server binaries (apt-get install postgresql)');
}
