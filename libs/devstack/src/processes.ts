import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs Klaxon's services as separate processes (the local stack and the end-to-end tests). Each
 * process gets its own environment, its log goes to a file, and its port is read from its
 * "listening on" line, so PORT=0 works.
 */
export const SERVICES = ['alert-ingest', 'oncall', 'notifier', 'incidents'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ServiceProcessOptions {
  name: ServiceName;
  root: string;
  env: Record<string, string>;
  logFile: string;
  /** Forwarded to the child's stderr too (for the start command's console). */
  echo?: (line: string) => void;
}

export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  url = '';
  port = 0;

  constructor(readonly options: ServiceProcessOptions) {}

  get name(): ServiceName {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once it listens (or rejects with its last log lines). */
  async start(extraEnv: Record<string, string> = {}, timeoutMs = 60000): Promise<void> {
    const { name, root, env, logFile } = this.options;
    this.url = '';
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    const main = path.join(root, 'dist/apps', name, 'src/main.js');
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: root,
      // The child stops by itself if this process dies without stopping it (SUPERVISOR_PID).
      env: { ...process.env, ...env, SUPERVISOR_PID: String(process.pid), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const tail: string[] = [];
    let buffer = '';
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        log.write(chunk);
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          tail.push(line);
          if (tail.length > 30) tail.shift();
          this.options.echo?.(line);
          const m = /listening on (http:\/\/[^"\s]+)/.exec(line);
          if (m && !this.url) {
            this.url = m[1]!;
            this.port = Number(new URL(this.url).port);
            resolve();
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before listening:\n${tail.join('\n')}`)));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${tail.join('\n')}`)), timeoutMs);
    });
    try {
      await Promise.race([listening, timeout]);
    } finally {
      clearTimeout(timer);
    }
    child.once('exit', () => log.end());
  }

  /** Waits until /health/ready answers 200. */
  async waitReady(timeoutMs = 30000): Promise<void> {
    const started = Date.now();
    let last = '';
    while (Date.now() - started < timeoutMs) {
      try {
        const res = await fetch(`${this.url}/health/ready`);
        if (res.ok) return;
        last = await res.text();
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms: ${last}`);
  }

  /** SIGTERM and wait (graceful), or SIGKILL (a crash). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000): Promise<number | null> {
    if (!this.child || !this.running) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited!,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => {
          this.child?.kill('SIGKILL');
          resolve(null);
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return code;
  }

  /** Resolves when the process exits by itself (e.g. at a crash point). */
  waitExit(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }
}
