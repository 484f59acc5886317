import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables every service needs for reliable messaging, in its own database: the outbox, the
 * record of processed messages, and durable timers. Each service lists this migration first.
 */
export class MessagingTables1764200000000 implements MigrationInterface {
  name = 'MessagingTables1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL,
        topic text NOT NULL,
        key text NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // NOTIFY is delivered when the inserting transaction commits: the relay wakes at once.
    await q.query(`
      CREATE FUNCTION klaxon_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('klaxon_outbox', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_outbox()`);

    await q.query(`
      CREATE TABLE processed_messages (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        topic text NOT NULL,
        partition int NOT NULL,
        "offset" bigint NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    await q.query(`CREATE INDEX processed_messages_age ON processed_messages (processed_at)`);

    await q.query(`
      CREATE TABLE timers (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        key text NOT NULL UNIQUE,
        due_at timestamptz NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        correlation_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX timers_due ON timers (due_at, id)`);
    await q.query(`
      CREATE FUNCTION klaxon_notify_timers() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('klaxon_timers', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER timers_notify AFTER INSERT OR UPDATE OF due_at ON timers FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_timers()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE timers');
    await q.query('DROP FUNCTION klaxon_notify_timers');
    await q.query('DROP TABLE processed_messages');
    await q.query('DROP TABLE outbox');
    await q.query('DROP FUNCTION klaxon_notify_outbox');
  }
}

/**
 * The outbox and timer wake-ups fire only when rows were inserted. A statement-level trigger fires
 * even for an INSERT that inserted nothing, and the intake's one-statement write always runs its
 * outbox and timer inserts (data-modifying CTEs), so without this every batch of new alerts woke
 * every timer runner and every batch of repeats woke the relay, each for a query that found nothing.
 */
export class MessagingNotifyOnRows1764800000000 implements MigrationInterface {
  name = 'MessagingNotifyOnRows1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION klaxon_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM inserted_rows) THEN PERFORM pg_notify('klaxon_outbox', ''); END IF; RETURN NULL; END $$`);
    await q.query('DROP TRIGGER outbox_notify ON outbox');
    await q.query(
      `CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_outbox()`,
    );
    await q.query(`
      CREATE FUNCTION klaxon_notify_timers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM inserted_rows) THEN PERFORM pg_notify('klaxon_timers', ''); END IF; RETURN NULL; END $$`);
    await q.query('DROP TRIGGER timers_notify ON timers');
    await q.query(
      `CREATE TRIGGER timers_notify_insert AFTER INSERT ON timers REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_timers_inserted()`,
    );
    await q.query(`CREATE TRIGGER timers_notify_reschedule AFTER UPDATE OF due_at ON timers FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_timers()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER timers_notify_reschedule ON timers');
    await q.query('DROP TRIGGER timers_notify_insert ON timers');
    await q.query('DROP FUNCTION klaxon_notify_timers_inserted');
    await q.query(`CREATE TRIGGER timers_notify AFTER INSERT OR UPDATE OF due_at ON timers FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_timers()`);
    await q.query('DROP TRIGGER outbox_notify ON outbox');
    await q.query(`
      CREATE OR REPLACE FUNCTION klaxon_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('klaxon_outbox', ''); RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION klaxon_notify_outbox()`);
  }
}

/** The messaging migrations, for a service's migration list (TypeORM runs them by timestamp). */
export const MESSAGING_MIGRATIONS = [MessagingTables1764200000000, MessagingNotifyOnRows1764800000000];
