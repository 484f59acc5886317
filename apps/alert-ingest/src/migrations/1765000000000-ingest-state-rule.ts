import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The alert/incident state rule (docs/architecture.md): who resolved an alert (the monitoring tool,
 * a person, or its incident), and the latest episode a sender reported for it, so a resolve for a
 * later episode of the same fingerprint (Alertmanager after a Prometheus restart) finds it.
 */
export class IngestStateRule1765000000000 implements MigrationInterface {
  name = 'IngestStateRule1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE alerts
        ADD COLUMN last_occurrence text,
        ADD COLUMN resolved_by text CHECK (resolved_by IN ('monitor', 'person', 'incident'))`);
    await q.query(`UPDATE alerts SET last_occurrence = occurrence WHERE occurrence IS NOT NULL`);
    // Alerts held by a maintenance window, found when a window ends (few rows: a partial index).
    await q.query(`CREATE INDEX alerts_held_in_maintenance ON alerts (service_id) WHERE in_maintenance AND status <> 'resolved'`);
    // oncall's services, as the directory topic announces them: a maintenance window must name real ones,
    // and a service's team scopes who may change its integrations and maintenance.
    await q.query(`
      CREATE TABLE services (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        team_id uuid,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE services');
    await q.query('DROP INDEX alerts_held_in_maintenance');
    await q.query('ALTER TABLE alerts DROP COLUMN last_occurrence, DROP COLUMN resolved_by');
  }
}
