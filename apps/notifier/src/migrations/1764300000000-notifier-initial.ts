import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NotifierInitial1764300000000 implements MigrationInterface {
  name = 'NotifierInitial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL,
        time_zone text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        page_id text NOT NULL,
        incident_id uuid NOT NULL,
        user_id uuid NOT NULL,
        channel text NOT NULL,
        destination text NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled', 'unknown')),
        page jsonb NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        provider text,
        provider_message_id text,
        error text,
        due_at timestamptz NOT NULL,
        sending_deadline timestamptz,
        sent_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // One message per page, channel and destination, however often the page request is delivered.
    await q.query(`CREATE UNIQUE INDEX notifications_once ON notifications (page_id, channel, destination)`);
    await q.query(`CREATE INDEX notifications_incident ON notifications (incident_id, status)`);
    await q.query(`
      CREATE TABLE inbox_messages (
        id bigserial PRIMARY KEY,
        notification_id uuid NOT NULL UNIQUE,
        channel text NOT NULL,
        destination text NOT NULL,
        subject text,
        body text NOT NULL,
        html text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX inbox_destination ON inbox_messages (destination, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['inbox_messages', 'notifications', 'users']) await q.query(`DROP TABLE ${t}`);
  }
}
