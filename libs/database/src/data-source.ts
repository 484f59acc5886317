import { createHash } from 'node:crypto';
import pg from 'pg';
import { DataSource, type DataSourceOptions, type EntitySchema, type MixedList } from 'typeorm';
import type { Logger } from 'pino';

export interface DatabaseSettings {
  url: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: Function[];
  poolSize?: number;
}

/** The one way a service builds its TypeORM data source: migrations only, never synchronize. */
export function dataSourceOptions(s: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: s.url,
    entities: s.entities,
    migrations: s.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: s.applicationName,
    extra: {
      Client: PreparingClient,
      max: s.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      // A statement stuck behind a lock for this long is a bug, not a wait worth making.
      statement_timeout: 60000,
      idle_in_transaction_session_timeout: 120000,
    },
  };
}

/** Distinct statements one connection prepares; past this, further ones run unprepared (bounded server memory). */
const PREPARED_PER_CONNECTION = 500;
const statementNames = new Map<string, string>();

/**
 * A pg client that prepares every parameterised statement once per connection (a named
 * statement, named after a hash of its text) and from then on only binds and executes it.
 * PostgreSQL spent as long parsing and planning Klaxon's short statements as running them; every
 * service runs the same few hundred statements all day, so this is most of its database CPU
 * per event. Statements without parameters (transaction control, migrations' multi-statement
 * scripts) go as they are.
 */
export class PreparingClient extends pg.Client {
  private readonly mine = new Set<string>();
  /** Set when a table changed under a prepared statement (a newer version migrated it): this connection prepares nothing more. */
  private plain = false;

  // pg's query() has many overloads; this one only changes the (text, values) form TypeORM uses.
  override query(...args: unknown[]): any {
    const [text, values] = args;
    if (args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      let name = statementNames.get(text);
      if (!name) {
        name = `k${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
        if (statementNames.size < 10_000) statementNames.set(text, name);
      }
      if (!this.plain && (this.mine.has(name) || this.mine.size < PREPARED_PER_CONNECTION)) {
        this.mine.add(name);
        return (super.query as (config: pg.QueryConfig) => Promise<pg.QueryResult>)({ name, text, values }).catch((err: { code?: string }) => {
          // "cached plan must not change result type": the caller's retry runs unprepared.
          if (err.code === '0A000') this.plain = true;
          throw err;
        });
      }
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }
}

/** Creates the service's database when it does not exist yet (first start, fresh test run). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`database name "${name}" may hold only letters, digits and _`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (err) {
        // 42P04 duplicate_database (another instance won the race); 23505 can surface the same race.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations under an advisory lock, so several instances starting together apply
 * each migration once.
 */
export async function runMigrations(dataSource: DataSource, logger?: Logger): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [0x6b6c7802]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [0x6b6c7802]).catch(() => undefined);
    await runner.release();
  }
}

/** Initialises a data source, creating the database first when needed. */
export async function openDatabase(settings: DatabaseSettings): Promise<DataSource> {
  await ensureDatabase(settings.url);
  const ds = new DataSource(dataSourceOptions(settings));
  await ds.initialize();
  return ds;
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Runs SQL and returns its rows. TypeORM's query() answers UPDATE and DELETE with
 * [rows, rowCount] instead of rows; use this for any UPDATE/DELETE … RETURNING.
 */
export async function queryRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}

interface PgClientLike {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs a statement PostgreSQL parses and plans once per connection (a named prepared statement),
 * for the hot paths that run the same SQL thousands of times a second: the intake's upsert spent
 * as long being planned as being executed. `name` must always go with the same `sql`. Given
 * something without a connected query runner (nothing to pin the statement to), it is an
 * ordinary query.
 */
export async function queryPrepared<T>(db: Queryable & { queryRunner?: unknown }, name: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const runner = (db.queryRunner ?? db) as { databaseConnection?: PgClientLike; isReleased?: boolean };
  const client = runner.databaseConnection;
  if (!client || runner.isReleased || typeof client.query !== 'function') return queryRows<T>(db, sql, params);
  const result = await client.query({ name, text: sql, values: params });
  return result.rows as T[];
}
