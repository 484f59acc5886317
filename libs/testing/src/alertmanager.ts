import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort } from './infra.js';

/**
 * The real Prometheus Alertmanager (Debian package prometheus-alertmanager). Installed here when
 * missing and we are root on Debian, as a fresh CI machine is; otherwise the test fails saying how.
 */
export function alertmanagerBinary(): string {
  const find = () => ['prometheus-alertmanager', 'alertmanager'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
  let bin = find();
  if (!bin && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
    spawnSync(
      'sh',
      [
        '-c',
        'apt-get install -y prometheus-alertmanager >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y prometheus-alertmanager >/dev/null 2>&1)',
      ],
      { stdio: 'inherit', timeout: 300_000 },
    );
    bin = find();
  }
  if (!bin) throw new Error('This test runs the real Prometheus Alertmanager: install it with "apt-get install -y prometheus-alertmanager"');
  return bin;
}

export class Alertmanager {
  static installed(): boolean {
    return ['prometheus-alertmanager', 'alertmanager'].some((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
  }

  private child?: ChildProcess;

  /** The running Alertmanager's process id (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klaxon-am-'));
  private output = '';
  url = '';

  constructor(private readonly config: string) {}

  async start(): Promise<this> {
    const port = await freePort();
    fs.writeFileSync(path.join(this.dir, 'alertmanager.yml'), this.config);
    this.child = spawn(
      alertmanagerBinary(),
      [
        `--config.file=${path.join(this.dir, 'alertmanager.yml')}`,
        `--storage.path=${this.dir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=debug',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${this.url}/-/ready`).catch(() => undefined))?.ok, {
      what: `Alertmanager ready (log: ${this.output.slice(-2000)})`,
      timeoutMs: 30000,
    });
    return this;
  }

  /** Fires (or, with endsAt in the past, resolves) alerts through Alertmanager's API v2. */
  async post(alerts: { labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string }[]): Promise<void> {
    const res = await fetch(`${this.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    if (!res.ok) throw new Error(`Alertmanager refused alerts: ${res.status} ${await res.text()}`);
  }

  async alerts(): Promise<{ fingerprint: string; labels: Record<string, string>; status: { state: string } }[]> {
    return (await fetch(`${this.url}/api/v2/alerts`)).json() as never;
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child!.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
