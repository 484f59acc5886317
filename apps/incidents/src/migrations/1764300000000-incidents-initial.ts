import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IncidentsInitial1764300000000 implements MigrationInterface {
  name = 'IncidentsInitial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // incidents' copy of the service settings it needs, kept from oncall's service events.
    await q.query(`
      CREATE TABLE services (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        team_id uuid,
        urgency_rule jsonb NOT NULL,
        grouping jsonb NOT NULL,
        ack_timeout_seconds int,
        auto_resolve_on_alert_resolve boolean NOT NULL,
        auto_resolve_timeout_seconds int,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE SEQUENCE incident_number_seq`);
    await q.query(`
      CREATE TABLE incidents (
        id uuid PRIMARY KEY,
        number int NOT NULL UNIQUE,
        service_id uuid NOT NULL,
        title text NOT NULL,
        status text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
        priority text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
        urgency text NOT NULL CHECK (urgency IN ('high', 'low')),
        alert_count int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by jsonb,
        resolved_at timestamptz,
        resolved_by jsonb,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX incidents_service_status ON incidents (service_id, status)`);
    await q.query(`CREATE INDEX incidents_status_number ON incidents (status, number DESC)`);
    await q.query(`
      CREATE TABLE incident_alerts (
        alert_id uuid PRIMARY KEY,
        incident_id uuid REFERENCES incidents (id),
        service_id uuid NOT NULL,
        dedup_key text NOT NULL,
        summary text NOT NULL,
        severity text NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL,
        resolved_at timestamptz
      )`);
    await q.query(`CREATE INDEX incident_alerts_incident ON incident_alerts (incident_id, status)`);
    await q.query(`
      CREATE TABLE timeline (
        id bigserial PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        at timestamptz NOT NULL,
        kind text NOT NULL,
        actor jsonb,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX timeline_incident ON timeline (incident_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['timeline', 'incident_alerts', 'incidents', 'services']) await q.query(`DROP TABLE ${t}`);
    await q.query('DROP SEQUENCE incident_number_seq');
  }
}
