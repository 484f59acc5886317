import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contact methods, notification rules, the incident copy, SMS reply codes, action links and the
 * columns a notification needs for SMS, voice, push, bundles and retries.
 */
export class NotifierChannels1764600000000 implements MigrationInterface {
  name = 'NotifierChannels1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contact_methods (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        type text NOT NULL CHECK (type IN ('email', 'sms', 'voice', 'push')),
        value text NOT NULL,
        label text NOT NULL DEFAULT '',
        verified_at timestamptz,
        verification_code_hash text,
        verification_expires_at timestamptz,
        verification_attempts int NOT NULL DEFAULT 0,
        verification_sent_at timestamptz,
        verification_sends int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        -- Phone numbers are stored in E.164 only, so one number is one string everywhere.
        CONSTRAINT contact_methods_e164 CHECK (type NOT IN ('sms', 'voice') OR value ~ '^\\+[1-9][0-9]{6,14}$'),
        CONSTRAINT contact_methods_once UNIQUE (user_id, type, value)
      )`);
    await q.query(`CREATE INDEX contact_methods_by_value ON contact_methods (value, type)`);

    await q.query(`
      CREATE TABLE notification_rules (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        urgency text NOT NULL CHECK (urgency IN ('high', 'low')),
        contact_method_id uuid NOT NULL REFERENCES contact_methods (id) ON DELETE CASCADE,
        delay_minutes int NOT NULL CHECK (delay_minutes BETWEEN 0 AND 1440),
        CONSTRAINT notification_rules_once UNIQUE (user_id, urgency, contact_method_id, delay_minutes)
      )`);
    await q.query(`CREATE INDEX notification_rules_method ON notification_rules (contact_method_id)`);

    // Numbers that replied STOP: no SMS until they reply START.
    await q.query(`CREATE TABLE sms_opt_outs (number text PRIMARY KEY, opted_out_at timestamptz NOT NULL)`);

    // What notifier knows of each incident, from incident events: enough to answer a reply.
    await q.query(`
      CREATE TABLE incidents (
        id uuid PRIMARY KEY,
        number int NOT NULL,
        title text NOT NULL DEFAULT '',
        status text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved', 'snoozed')),
        changed_by_user_id uuid,
        changed_by_name text,
        changed_at timestamptz NOT NULL
      )`);

    // Per phone number, a short code for each open incident paged to it (bundles from 100).
    await q.query(`
      CREATE TABLE reply_codes (
        destination text NOT NULL,
        code int NOT NULL CHECK (code > 0),
        user_id uuid NOT NULL,
        incident_ids uuid[] NOT NULL CHECK (cardinality(incident_ids) > 0),
        last_sent_at timestamptz NOT NULL,
        PRIMARY KEY (destination, code),
        CONSTRAINT reply_codes_bundle_range CHECK ((cardinality(incident_ids) = 1) = (code < 100))
      )`);
    await q.query(`CREATE UNIQUE INDEX reply_codes_one_per_incident ON reply_codes (destination, (incident_ids[1])) WHERE code < 100`);
    await q.query(`CREATE INDEX reply_codes_latest ON reply_codes (destination, last_sent_at DESC)`);
    await q.query(`CREATE INDEX reply_codes_incidents ON reply_codes USING gin (incident_ids)`);

    // Signed acknowledge/resolve links: single use, expiring.
    await q.query(`
      CREATE TABLE action_links (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        incident_ids uuid[] NOT NULL CHECK (cardinality(incident_ids) > 0),
        action text NOT NULL CHECK (action IN ('acknowledge', 'resolve', 'escalate')),
        channel text NOT NULL CHECK (channel IN ('email', 'push')),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX action_links_expiry ON action_links (expires_at)`);

    // Inbound SMS by provider id: a webhook delivered twice gets the same answer and acts once.
    await q.query(`
      CREATE TABLE inbound_messages (
        provider text NOT NULL,
        provider_message_id text NOT NULL,
        from_number text NOT NULL,
        body text NOT NULL,
        reply text NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (provider, provider_message_id)
      )`);

    await q.query(`ALTER TABLE notifications ALTER COLUMN incident_id DROP NOT NULL, ALTER COLUMN user_id DROP NOT NULL`);
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_status_check`);
    await q.query(`
      ALTER TABLE notifications
        ADD CONSTRAINT notifications_status_check CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'cancelled', 'unknown')),
        ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'sms', 'voice', 'push')),
        ADD COLUMN kind text NOT NULL DEFAULT 'page' CHECK (kind IN ('page', 'verification', 'stakeholder')),
        ADD COLUMN rule_key text NOT NULL DEFAULT 'default',
        ADD COLUMN contact_method_id uuid,
        ADD COLUMN bundle_id uuid,
        ADD COLUMN message jsonb,
        ADD COLUMN started_at timestamptz,
        ADD COLUMN answered_by text,
        ADD CONSTRAINT notifications_page_has_incident CHECK (kind <> 'page' OR (incident_id IS NOT NULL AND user_id IS NOT NULL))`);
    // One message per page, channel, destination and rule (the same phone at 1 and at 5 minutes is two).
    await q.query(`DROP INDEX notifications_once`);
    await q.query(`CREATE UNIQUE INDEX notifications_once ON notifications (page_id, channel, destination, rule_key)`);
    // Bundling and rate limits look up what is pending and what recently went to one destination.
    await q.query(`CREATE INDEX notifications_queued_to ON notifications (channel, destination, due_at) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX notifications_sent_to ON notifications (channel, destination, started_at) WHERE id = bundle_id AND kind = 'page'`);
    await q.query(`CREATE INDEX notifications_user_sent ON notifications (user_id, started_at) WHERE id = bundle_id AND kind = 'page'`);
    await q.query(`CREATE INDEX notifications_bundle ON notifications (bundle_id) WHERE bundle_id IS NOT NULL`);
    await q.query(`CREATE INDEX notifications_page ON notifications (page_id, due_at)`);

    await q.query(
      `ALTER TABLE inbox_messages ALTER COLUMN notification_id DROP NOT NULL, ADD COLUMN meta jsonb NOT NULL DEFAULT '{}'::jsonb, ADD COLUMN direction text NOT NULL DEFAULT 'out' CHECK (direction IN ('out', 'in'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbox_messages DROP COLUMN direction, DROP COLUMN meta`);
    for (const i of [
      'notifications_page',
      'notifications_bundle',
      'notifications_user_sent',
      'notifications_sent_to',
      'notifications_queued_to',
      'notifications_once',
    ])
      await q.query(`DROP INDEX ${i}`);
    await q.query(`CREATE UNIQUE INDEX notifications_once ON notifications (page_id, channel, destination)`);
    await q.query(`
      ALTER TABLE notifications DROP CONSTRAINT notifications_page_has_incident, DROP COLUMN answered_by, DROP COLUMN started_at, DROP COLUMN message,
        DROP COLUMN bundle_id, DROP COLUMN contact_method_id, DROP COLUMN rule_key, DROP COLUMN kind,
        DROP CONSTRAINT notifications_channel_check, DROP CONSTRAINT notifications_status_check`);
    await q.query(
      `ALTER TABLE notifications ADD CONSTRAINT notifications_status_check CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled', 'unknown'))`,
    );
    for (const t of ['inbound_messages', 'action_links', 'reply_codes', 'incidents', 'sms_opt_outs', 'notification_rules', 'contact_methods'])
      await q.query(`DROP TABLE ${t}`);
  }
}
