import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Everything the drop-in endpoints need beyond the first PagerDuty path: richer alerts, maintenance
 * windows, heartbeats, Opsgenie request records, change events and the redelivery ledger.
 */
export class IngestSources1764400000000 implements MigrationInterface {
  name = 'IngestSources1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE alerts
        ADD COLUMN integration_type text,
        ADD COLUMN component text,
        ADD COLUMN "group" text,
        ADD COLUMN class text,
        ADD COLUMN links jsonb NOT NULL DEFAULT '[]'::jsonb,
        ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN in_maintenance boolean NOT NULL DEFAULT false,
        ADD COLUMN occurrence text`);
    // Management lists: a service's alerts by status, newest first.
    await q.query(`CREATE INDEX alerts_service_status ON alerts (service_id, status, first_seen_at DESC)`);
    // Lookups by dedup key whatever the status (Opsgenie "get by alias", stale-duplicate checks).
    await q.query(`CREATE INDEX alerts_service_key ON alerts (service_id, dedup_key, first_seen_at DESC)`);
    // One episode of a sender's alert (Alertmanager: fingerprint + startsAt) opens at most one alert,
    // so an HA peer's late "firing" for an episode already resolved cannot reopen it.
    await q.query(`CREATE UNIQUE INDEX alerts_one_per_occurrence ON alerts (service_id, dedup_key, occurrence) WHERE occurrence IS NOT NULL`);

    await q.query(`
      CREATE TABLE maintenance_windows (
        id uuid PRIMARY KEY,
        service_ids uuid[] NOT NULL CHECK (cardinality(service_ids) > 0),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        description text NOT NULL DEFAULT '',
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      )`);
    await q.query(`CREATE INDEX maintenance_windows_services ON maintenance_windows USING gin (service_ids)`);
    await q.query(`CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at)`);

    await q.query(`
      CREATE TABLE heartbeats (
        integration_id uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'up', 'expired')),
        last_ping_at timestamptz,
        expired_at timestamptz
      )`);
    // Opsgenie-style pings name the heartbeat: one name per service.
    await q.query(`CREATE UNIQUE INDEX integrations_heartbeat_name ON integrations (service_id, name) WHERE type = 'heartbeat'`);

    // Opsgenie answers every request with an id and tells later what became of it.
    await q.query(`
      CREATE TABLE ingest_requests (
        id uuid PRIMARY KEY,
        integration_id uuid NOT NULL,
        action text NOT NULL,
        status text NOT NULL,
        success boolean NOT NULL,
        alert_id uuid,
        alias text,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ingest_requests_age ON ingest_requests (created_at)`);

    // Senders' own message ids (SNS MessageId, Idempotency-Key): a redelivery changes nothing.
    await q.query(`
      CREATE TABLE deliveries (
        integration_id uuid NOT NULL,
        delivery_id text NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (integration_id, delivery_id)
      )`);
    await q.query(`CREATE INDEX deliveries_age ON deliveries (received_at)`);

    await q.query(`
      CREATE TABLE change_events (
        id uuid PRIMARY KEY,
        service_id uuid NOT NULL,
        integration_id uuid NOT NULL,
        summary text NOT NULL,
        source text,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        links jsonb NOT NULL DEFAULT '[]'::jsonb
      )`);
    await q.query(`CREATE INDEX change_events_service ON change_events (service_id, occurred_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE change_events');
    await q.query('DROP TABLE deliveries');
    await q.query('DROP TABLE ingest_requests');
    await q.query('DROP INDEX integrations_heartbeat_name');
    await q.query('DROP TABLE heartbeats');
    await q.query('DROP TABLE maintenance_windows');
    await q.query('DROP INDEX alerts_one_per_occurrence');
    await q.query('DROP INDEX alerts_service_key');
    await q.query('DROP INDEX alerts_service_status');
    await q.query(`ALTER TABLE alerts DROP COLUMN integration_type, DROP COLUMN component, DROP COLUMN "group", DROP COLUMN class,
      DROP COLUMN links, DROP COLUMN labels, DROP COLUMN in_maintenance, DROP COLUMN occurrence`);
  }
}
