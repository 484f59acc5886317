import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Teams, schedules with overrides, calendar feed tokens, and the maintenance windows oncall honours. */
export class OncallTeamsSchedules1764400000000 implements MigrationInterface {
  name = 'OncallTeamsSchedules1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // btree_gist lets one exclusion constraint say "no two overrides of one user overlap".
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);

    await q.query(`
      CREATE TABLE teams (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX teams_name ON teams (lower(name))`);
    await q.query(`
      CREATE TABLE team_members (
        team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('manager', 'responder', 'observer')),
        PRIMARY KEY (team_id, user_id)
      )`);
    await q.query(`CREATE INDEX team_members_user ON team_members (user_id)`);

    // Services could name any team id before teams existed; such ids pointed at nothing.
    await q.query(`UPDATE services SET team_id = NULL WHERE team_id IS NOT NULL`);
    await q.query(`ALTER TABLE services ADD CONSTRAINT services_team FOREIGN KEY (team_id) REFERENCES teams (id)`);
    await q.query(`CREATE INDEX services_team ON services (team_id)`);

    await q.query(`
      CREATE TABLE schedules (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        time_zone text NOT NULL,
        team_id uuid REFERENCES teams (id),
        layers jsonb NOT NULL,
        feed_token_hash text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX schedules_team ON schedules (team_id)`);

    await q.query(`
      CREATE TABLE schedule_overrides (
        id uuid PRIMARY KEY,
        schedule_id uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (ends_at > starts_at),
        CONSTRAINT schedule_overrides_no_overlap EXCLUDE USING gist (schedule_id WITH =, user_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
      )`);
    // Who is on call at T reads the overrides of one schedule overlapping T.
    await q.query(`CREATE INDEX schedule_overrides_window ON schedule_overrides USING gist (schedule_id, tstzrange(starts_at, ends_at))`);
    await q.query(`CREATE INDEX schedule_overrides_user ON schedule_overrides (user_id, ends_at)`);

    await q.query(`ALTER TABLE users ADD COLUMN feed_token_hash text UNIQUE`);

    // A copy of alert-ingest's maintenance windows (from maintenance.upserted/deleted).
    await q.query(`
      CREATE TABLE maintenance_windows (
        id uuid PRIMARY KEY,
        service_ids uuid[] NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        description text NOT NULL DEFAULT '',
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX maintenance_windows_services ON maintenance_windows USING gin (service_ids)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE maintenance_windows');
    await q.query('ALTER TABLE users DROP COLUMN feed_token_hash');
    await q.query('DROP TABLE schedule_overrides');
    await q.query('DROP TABLE schedules');
    await q.query('ALTER TABLE services DROP CONSTRAINT services_team');
    await q.query('DROP INDEX services_team');
    await q.query('DROP TABLE team_members');
    await q.query('DROP TABLE teams');
  }
}
