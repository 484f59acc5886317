import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { Clock } from '#libs/clock';
import { correlationIdOrNew, currentCorrelationId, withCorrelationId, type Metrics } from '#libs/observability';
import { crashPoint } from './crash.js';
import { errorMessage, sleep } from './errors.js';
import { Wakeup, type PgListener } from './listener.js';
import { queryRows } from '#libs/database';

export interface Timer<P = Record<string, unknown>> {
  id: string;
  kind: string;
  key: string;
  dueAt: Date;
  payload: P;
  attempts: number;
}

/**
 * Runs inside the transaction that deletes the timer. It may return a function to run after that
 * transaction commits (calling a provider, say); that part is not durable, so whatever it does
 * must be recoverable by a timer the handler scheduled in the transaction.
 */
export type TimerHandler<P = Record<string, unknown>> = (timer: Timer<P>, manager: EntityManager) => Promise<void | (() => Promise<void>)>;

/**
 * Durable timers: escalation steps, delayed notifications, heartbeats, SLA breaches. A timer is a
 * row, written in the same transaction as the decision that needs it, so a crash can neither lose
 * nor duplicate it. `key` is unique: scheduling the same key again moves the timer.
 */
export class Timers {
  constructor(private readonly clock: Clock) {}

  async schedule(manager: EntityManager, kind: string, key: string, dueAt: Date, payload: object = {}): Promise<void> {
    await manager.query(
      `INSERT INTO timers (kind, key, due_at, payload, correlation_id) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
         attempts = 0, last_error = NULL, correlation_id = EXCLUDED.correlation_id`,
      [kind, key, dueAt.toISOString(), JSON.stringify(payload), currentCorrelationId() ?? correlationIdOrNew()],
    );
  }

  /** Schedules only if no timer with this key exists (keeps the earlier due time). */
  async scheduleIfAbsent(manager: EntityManager, kind: string, key: string, dueAt: Date, payload: object = {}): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO timers (kind, key, due_at, payload, correlation_id) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (key) DO NOTHING RETURNING 1`,
      [kind, key, dueAt.toISOString(), JSON.stringify(payload), currentCorrelationId() ?? correlationIdOrNew()],
    );
    return rows.length > 0;
  }

  /** scheduleIfAbsent for many timers in one statement (a batch of writes); returns the keys scheduled. */
  async scheduleManyIfAbsent(manager: EntityManager, timers: { kind: string; key: string; dueAt: Date; payload?: object }[]): Promise<string[]> {
    if (timers.length === 0) return [];
    const correlationId = currentCorrelationId() ?? correlationIdOrNew();
    const rows = await queryRows<{ key: string }>(
      manager,
      `INSERT INTO timers (kind, key, due_at, payload, correlation_id)
       SELECT kind, key, due_at, payload, $5 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) AS t(kind, key, due_at, payload)
       ORDER BY key
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [
        timers.map((t) => t.kind),
        timers.map((t) => t.key),
        timers.map((t) => t.dueAt.toISOString()),
        timers.map((t) => JSON.stringify(t.payload ?? {})),
        correlationId,
      ],
    );
    return rows.map((r) => r.key);
  }

  /** Cancels the timers with these keys; returns the keys that existed (and so were pending). */
  async cancelMany(manager: EntityManager, keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<{ key: string }>(manager, 'DELETE FROM timers WHERE key = ANY($1::text[]) RETURNING key', [keys]);
    return rows.map((r) => r.key);
  }

  async cancel(manager: EntityManager, key: string): Promise<void> {
    await manager.query('DELETE FROM timers WHERE key = $1', [key]);
  }

  /**
   * Cancels these timers, except any a runner is firing right now (their handler runs anyway and
   * must find nothing left to do). For a handler that takes over other timers' work without
   * waiting for their locks, which could deadlock with those timers' own handlers.
   */
  async cancelUnclaimed(manager: EntityManager, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await manager.query('DELETE FROM timers WHERE id IN (SELECT id FROM timers WHERE key = ANY($1::text[]) FOR UPDATE SKIP LOCKED)', [keys]);
  }

  /** Cancels every timer whose key starts with the prefix (e.g. all of one incident's notifications). */
  async cancelByPrefix(manager: EntityManager, prefix: string): Promise<number> {
    const rows = await queryRows(manager, `DELETE FROM timers WHERE key LIKE $1 ESCAPE '\\' RETURNING 1`, [`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
    return rows.length;
  }

  async find(manager: EntityManager, key: string): Promise<Timer | undefined> {
    const [row] = await manager.query('SELECT id, kind, key, due_at, payload, attempts FROM timers WHERE key = $1', [key]);
    return row ? toTimer(row) : undefined;
  }

  now(): Date {
    return this.clock.now();
  }
}

interface TimerRow {
  id: string;
  kind: string;
  key: string;
  due_at: Date;
  payload: Record<string, unknown>;
  attempts: number;
  correlation_id?: string | null;
}

function toTimer(row: TimerRow): Timer {
  return { id: row.id, kind: row.kind, key: row.key, dueAt: new Date(row.due_at), payload: row.payload, attempts: row.attempts };
}

export interface TimerRunnerSettings {
  /** Timers handled at once by this instance. */
  concurrency?: number;
  /** Longest sleep between checks, bounding the delay if a NOTIFY is lost (ms). */
  maxSleepMs?: number;
}

/**
 * Fires due timers. Several instances may run: each claims a timer with FOR UPDATE SKIP LOCKED,
 * runs its handler and deletes it in one transaction, so each timer fires once. A handler that
 * fails is retried with backoff, never dropped.
 */
export class TimerRunner {
  private readonly handlers = new Map<string, TimerHandler<never>>();
  private readonly wakeup = new Wakeup();
  private running = false;
  private loopDone?: Promise<void>;
  private readonly concurrency: number;
  private readonly maxSleepMs: number;
  private unsubscribeJump?: () => void;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly listener: PgListener,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    settings: TimerRunnerSettings = {},
  ) {
    this.concurrency = settings.concurrency ?? 4;
    this.maxSleepMs = settings.maxSleepMs ?? 1000;
    this.listener.on('klaxon_timers', this.wakeup.wake);
    metrics.gauge('klaxon_timers_due', 'Timers due now and not yet fired', async () => {
      const [row] = await this.dataSource.query('SELECT count(*)::int AS n FROM timers WHERE due_at <= $1', [this.clock.now()]);
      return row.n;
    });
  }

  register<P>(kind: string, handler: TimerHandler<P>): void {
    if (this.handlers.has(kind)) throw new Error(`timer kind ${kind} already has a handler`);
    this.handlers.set(kind, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribeJump = this.clock.onJump(this.wakeup.wake);
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribeJump?.();
    this.wakeup.wake();
    await this.loopDone;
    await Promise.all([...this.inFlight]);
  }

  private async loop(): Promise<void> {
    // Timers claimed at once (SKIP LOCKED gives each claim a different one): one after a wake-up,
    // doubling up to `concurrency` while every claim finds a timer. Claiming `concurrency` at every
    // turn cost a lone timer eight claim transactions, seven of them finding nothing.
    let width = 1;
    while (this.running) {
      try {
        const fired = (await Promise.all(Array.from({ length: width }, () => this.fireOne()))).filter(Boolean).length;
        if (fired > 0) {
          width = fired === width ? Math.min(width * 2, this.concurrency) : fired;
          continue;
        }
        width = 1;
        await this.wakeup.wait(await this.untilNextDue());
      } catch (err) {
        this.logger.warn({ err: errorMessage(err) }, 'timer runner could not reach the database; retrying');
        await sleep(1000);
      }
    }
  }

  private async untilNextDue(): Promise<number> {
    const [row] = await this.dataSource.query('SELECT min(due_at) AS next FROM timers');
    if (!row?.next) return this.maxSleepMs;
    return Math.min(this.maxSleepMs, Math.max(0, new Date(row.next).getTime() - this.clock.now().getTime()));
  }

  /** Claims and fires one due timer; returns false when none is due. */
  async fireOne(): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let timer: Timer | undefined;
    let correlationId: string | undefined;
    try {
      await runner.startTransaction();
      const [row]: TimerRow[] = await runner.query(
        `SELECT id, kind, key, due_at, payload, attempts, correlation_id FROM timers
         WHERE due_at <= $1 ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [this.clock.now()],
      );
      if (!row) {
        await runner.commitTransaction();
        return false;
      }
      timer = toTimer(row);
      correlationId = row.correlation_id ?? undefined;
      const handler = this.handlers.get(timer.kind);
      if (!handler) throw new Error(`no handler for timer kind "${timer.kind}"`);
      const t = timer;
      // Deleted before the handler runs, so a handler may schedule the same key again (a recurring
      // check); if the handler fails, the rollback brings the timer back.
      await runner.query('DELETE FROM timers WHERE id = $1', [t.id]);
      const after = await withCorrelationId(correlationId, () => handler(t as never, runner.manager));
      crashPoint(`timer.${t.kind}.before-commit`);
      await runner.commitTransaction();
      this.metrics.timersFired.inc({ kind: t.kind, outcome: 'fired' });
      if (after) {
        const task = withCorrelationId(correlationId, after)
          .catch((err) =>
            this.logger.error({ err: errorMessage(err), kind: t.kind, key: t.key }, 'after-commit step of a timer failed; its recovery timer will handle it'),
          )
          .finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
      return true;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if (!timer) throw err;
      await this.recordFailure(timer, err);
      return true;
    } finally {
      await runner.release();
    }
  }

  private async recordFailure(timer: Timer, err: unknown): Promise<void> {
    const attempts = timer.attempts + 1;
    const delayMs = Math.min(1000 * 2 ** Math.min(attempts, 8), 5 * 60_000);
    this.metrics.timersFired.inc({ kind: timer.kind, outcome: 'error' });
    this.logger.error({ err: errorMessage(err), kind: timer.kind, key: timer.key, attempts, retryInMs: delayMs }, 'timer handler failed; will retry');
    await this.dataSource
      .query('UPDATE timers SET attempts = $2, last_error = $3, due_at = $4 WHERE id = $1', [
        timer.id,
        attempts,
        errorMessage(err).slice(0, 2000),
        new Date(this.clock.now().getTime() + delayMs),
      ])
      .catch(() => undefined);
  }
}
