import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status updates: a contact method may ask to be told when an incident its owner was paged about
 * is acknowledged or resolved by someone else. They are messages of their own kind, with their own
 * rate limit, so they never take a page's place.
 */
export class NotifierStatusUpdates1764700000000 implements MigrationInterface {
  name = 'NotifierStatusUpdates1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contact_methods ADD COLUMN status_updates boolean NOT NULL DEFAULT false`);
    // A phone call to say someone else acknowledged would wake people for nothing.
    await q.query(`ALTER TABLE contact_methods ADD CONSTRAINT contact_methods_status_updates_channel CHECK (NOT status_updates OR type <> 'voice')`);
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check`);
    await q.query(`ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('page', 'verification', 'stakeholder', 'status'))`);
    await q.query(`CREATE INDEX notifications_status_sent_to ON notifications (channel, destination, started_at) WHERE id = bundle_id AND kind = 'status'`);
    await q.query(
      `CREATE INDEX notifications_incident_reached ON notifications (incident_id) WHERE kind = 'page' AND status IN ('sending', 'sent', 'delivered')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX notifications_incident_reached`);
    await q.query(`DROP INDEX notifications_status_sent_to`);
    await q.query(`DELETE FROM notifications WHERE kind = 'status'`);
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check`);
    await q.query(`ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('page', 'verification', 'stakeholder'))`);
    await q.query(`ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_status_updates_channel, DROP COLUMN status_updates`);
  }
}
