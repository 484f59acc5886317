import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OncallInitial1764300000000 implements MigrationInterface {
  name = 'OncallInitial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL,
        time_zone text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email ON users (lower(email))`);

    await q.query(`
      CREATE TABLE escalation_policies (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        repeat_count int NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 9),
        steps jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE services (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        team_id uuid,
        escalation_policy_id uuid REFERENCES escalation_policies (id),
        urgency_rule jsonb NOT NULL,
        grouping jsonb NOT NULL,
        ack_timeout_seconds int,
        auto_resolve_on_alert_resolve boolean NOT NULL DEFAULT true,
        auto_resolve_timeout_seconds int,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX services_policy ON services (escalation_policy_id)`);

    // One row per incident being escalated, with the policy as it was when the incident triggered.
    await q.query(`
      CREATE TABLE escalations (
        incident_id uuid PRIMARY KEY,
        incident_number int NOT NULL,
        service_id uuid NOT NULL,
        service_name text NOT NULL,
        title text NOT NULL,
        urgency text NOT NULL,
        policy jsonb NOT NULL,
        generation int NOT NULL,
        step int NOT NULL,
        loop int NOT NULL,
        state text NOT NULL CHECK (state IN ('active', 'stopped', 'exhausted')),
        updated_at timestamptz NOT NULL
      )`);
    // The invariant "each step fires once per trigger generation and loop" is this primary key.
    await q.query(`
      CREATE TABLE escalation_firings (
        incident_id uuid NOT NULL REFERENCES escalations (incident_id) ON DELETE CASCADE,
        generation int NOT NULL,
        loop int NOT NULL,
        step int NOT NULL,
        user_ids uuid[] NOT NULL,
        fired_at timestamptz NOT NULL,
        PRIMARY KEY (incident_id, generation, loop, step)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['escalation_firings', 'escalations', 'services', 'escalation_policies', 'users']) await q.query(`DROP TABLE ${t}`);
  }
}
