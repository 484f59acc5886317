import pg from 'pg';
import type { Logger } from 'pino';
import { sleep } from './errors.js';

/**
 * One dedicated PostgreSQL connection that LISTENs for wake-ups (outbox rows committed, timers
 * scheduled). NOTIFY is delivered at commit, so a waiting loop wakes the moment the row is
 * visible. If the connection drops it reconnects; the loops also poll, so a lost notification
 * costs at most one poll interval, never an event.
 */
export class PgListener {
  private client?: pg.Client;
  private readonly handlers = new Map<string, Set<() => void>>();
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  on(channel: string, handler: () => void): void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
  }

  async start(): Promise<void> {
    void this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      const client = new pg.Client({ connectionString: this.url, application_name: 'klaxon-listener' });
      try {
        await client.connect();
        client.on('notification', (msg) => this.handlers.get(msg.channel)?.forEach((h) => h()));
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
        this.client = client;
        delay = 100;
        // Wake everyone once: anything committed while we were disconnected is picked up now.
        this.handlers.forEach((set) => set.forEach((h) => h()));
        await new Promise<void>((resolve) => {
          client.once('error', (err) => {
            this.logger.warn({ err: err.message }, 'listen connection lost; reconnecting');
            resolve();
          });
          client.once('end', () => resolve());
          this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } catch (err) {
        if (!this.stopped) this.logger.warn({ err: (err as Error).message }, 'cannot LISTEN yet; retrying');
      }
      this.client = undefined;
      await client.end().catch(() => undefined);
      if (!this.stopped) await sleep(delay, this.abort.signal);
      delay = Math.min(delay * 2, 5000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.client?.end().catch(() => undefined);
  }
}

/** A waitable "something changed" flag: `wait(ms)` resolves on the next `wake()` or after ms. */
export class Wakeup {
  private pending = false;
  private readonly waiters = new Set<() => void>();

  wake = (): void => {
    if (this.waiters.size === 0) {
      this.pending = true;
      return;
    }
    for (const w of [...this.waiters]) w();
  };

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }
}
