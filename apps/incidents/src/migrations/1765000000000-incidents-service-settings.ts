import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The copy of a service's settings gains its automatic-review setting (major incidents by default);
 * an incident's alerts keep how often they repeated, and the incident the total of its alerts' events.
 */
export class IncidentsServiceSettings1765000000000 implements MigrationInterface {
  name = 'IncidentsServiceSettings1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE services ADD COLUMN automatic_reviews text NOT NULL DEFAULT 'major' CHECK (automatic_reviews IN ('off', 'major', 'major-and-p1-p2'))`,
    );
    await q.query(`ALTER TABLE incident_alerts ADD COLUMN count int NOT NULL DEFAULT 1, ADD COLUMN last_seen_at timestamptz`);
    await q.query(`ALTER TABLE incidents ADD COLUMN alert_events int NOT NULL DEFAULT 0`);
    await q.query(`UPDATE incidents SET alert_events = alert_count`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE incidents DROP COLUMN alert_events');
    await q.query('ALTER TABLE incident_alerts DROP COLUMN count, DROP COLUMN last_seen_at');
    await q.query('ALTER TABLE services DROP COLUMN automatic_reviews');
  }
}
