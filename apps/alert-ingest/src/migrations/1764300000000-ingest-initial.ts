import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IngestInitial1764300000000 implements MigrationInterface {
  name = 'IngestInitial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE integrations (
        id uuid PRIMARY KEY,
        service_id uuid NOT NULL,
        type text NOT NULL,
        name text NOT NULL,
        key_hash bytea NOT NULL,
        key_hint text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX integrations_key ON integrations (key_hash)`);
    await q.query(`CREATE INDEX integrations_service ON integrations (service_id)`);
    await q.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY,
        service_id uuid NOT NULL,
        integration_id uuid,
        dedup_key text NOT NULL,
        status text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
        summary text NOT NULL,
        severity text NOT NULL,
        source text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        count int NOT NULL DEFAULT 1,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        acknowledged_at timestamptz,
        resolved_at timestamptz
      )`);
    // The dedup invariant: at most one open alert per (service, dedup key).
    await q.query(`CREATE UNIQUE INDEX alerts_one_open_per_key ON alerts (service_id, dedup_key) WHERE status <> 'resolved'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE alerts');
    await q.query('DROP TABLE integrations');
  }
}
