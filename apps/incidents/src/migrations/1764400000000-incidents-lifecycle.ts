import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Grouping, the full lifecycle (snooze, assignees, escalation level, major), SLA clocks,
 * stakeholders and their updates, problems, post-incident reviews, and the users and teams copies
 * that put names on actors and teams on analytics.
 */
export class IncidentsLifecycle1764400000000 implements MigrationInterface {
  name = 'IncidentsLifecycle1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // incidents' copies of oncall's users and teams, kept from directory events.
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL,
        time_zone text NOT NULL,
        role text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE teams (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);

    await q.query(`
      ALTER TABLE incidents
        ADD COLUMN team_id uuid,
        ADD COLUMN group_key text,
        ADD COLUMN priority_source text NOT NULL DEFAULT 'alert' CHECK (priority_source IN ('alert', 'manual')),
        ADD COLUMN first_acknowledged_at timestamptz,
        ADD COLUMN snoozed_until timestamptz,
        ADD COLUMN assignees uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN escalation_level int NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
        ADD COLUMN major boolean NOT NULL DEFAULT false,
        ADD COLUMN conference_url text,
        ADD COLUMN conference_dial_in text,
        ADD COLUMN last_activity_at timestamptz,
        ADD CONSTRAINT incidents_resolved_at CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
        ADD CONSTRAINT incidents_acknowledged_at CHECK (status <> 'acknowledged' OR acknowledged_at IS NOT NULL),
        ADD CONSTRAINT incidents_snoozed_only_acknowledged CHECK (snoozed_until IS NULL OR status = 'acknowledged')`);
    await q.query(`UPDATE incidents SET last_activity_at = updated_at, first_acknowledged_at = acknowledged_at`);
    await q.query(`UPDATE incidents i SET team_id = s.team_id FROM services s WHERE s.id = i.service_id`);
    // Lists and analytics: newest first, by time range, per service or team, major ones, per assignee.
    await q.query(`CREATE INDEX incidents_created ON incidents (created_at, number)`);
    await q.query(`CREATE INDEX incidents_service_created ON incidents (service_id, created_at)`);
    await q.query(`CREATE INDEX incidents_team_created ON incidents (team_id, created_at) WHERE team_id IS NOT NULL`);
    await q.query(`CREATE INDEX incidents_major ON incidents (number DESC) WHERE major`);
    await q.query(`CREATE INDEX incidents_assignees ON incidents USING gin (assignees)`);
    await q.query(`CREATE INDEX incident_alerts_service_created ON incident_alerts (service_id, created_at)`);

    // One row per (service, group): the incident alerts of that group currently join. The row is
    // locked (upsert) by whichever consumer handles an alert of the group, so two alerts arriving
    // together on different partitions decide one after the other and never open two incidents.
    await q.query(`
      CREATE TABLE incident_groups (
        service_id uuid NOT NULL,
        group_key text NOT NULL,
        incident_id uuid REFERENCES incidents (id),
        window_ends_at timestamptz,
        hard_ends_at timestamptz,
        PRIMARY KEY (service_id, group_key)
      )`);

    // SLA goals per service and priority (minutes in the API, seconds here).
    await q.query(`
      CREATE TABLE sla_policies (
        service_id uuid NOT NULL,
        priority text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
        acknowledge_seconds int CHECK (acknowledge_seconds > 0),
        resolve_seconds int CHECK (resolve_seconds > 0),
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (service_id, priority),
        CHECK (acknowledge_seconds IS NOT NULL OR resolve_seconds IS NOT NULL)
      )`);
    // Two clocks per incident, always (target NULL when the policy sets no goal), so pauses are
    // counted even before a priority change gives the clock a target.
    await q.query(`
      CREATE TABLE incident_slas (
        incident_id uuid NOT NULL REFERENCES incidents (id),
        goal text NOT NULL CHECK (goal IN ('acknowledge', 'resolve')),
        target_seconds int CHECK (target_seconds > 0),
        started_at timestamptz NOT NULL,
        paused_ms bigint NOT NULL DEFAULT 0 CHECK (paused_ms >= 0),
        paused_since timestamptz,
        stopped_at timestamptz,
        breached_at timestamptz,
        PRIMARY KEY (incident_id, goal),
        CHECK (stopped_at IS NULL OR paused_since IS NULL)
      )`);
    for (const goal of ['acknowledge', 'resolve']) {
      await q.query(
        `INSERT INTO incident_slas (incident_id, goal, started_at, stopped_at)
         SELECT id, $1, created_at, CASE WHEN $1 = 'acknowledge' THEN coalesce(first_acknowledged_at, resolved_at) ELSE resolved_at END FROM incidents`,
        [goal],
      );
    }

    // Problems: the underlying cause several incidents share ("incident is caused by problem").
    await q.query(`CREATE SEQUENCE problem_number_seq`);
    await q.query(`
      CREATE TABLE problems (
        id uuid PRIMARY KEY,
        number int NOT NULL UNIQUE,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        status text NOT NULL CHECK (status IN ('open', 'investigating', 'known-error', 'resolved')),
        root_cause text NOT NULL DEFAULT '',
        workaround text NOT NULL DEFAULT '',
        created_by jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        resolved_at timestamptz,
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX problems_status ON problems (status, number DESC)`);
    await q.query(`ALTER TABLE incidents ADD COLUMN problem_id uuid REFERENCES problems (id)`);
    await q.query(`CREATE INDEX incidents_problem ON incidents (problem_id, number DESC) WHERE problem_id IS NOT NULL`);

    // Stakeholders: informed, never paged. A directory user (email kept current from user events)
    // or an outside address; each person at most once per incident or service.
    for (const [table, owner, ref] of [
      ['service_stakeholders', 'service_id', ''],
      ['incident_stakeholders', 'incident_id', 'REFERENCES incidents (id)'],
    ] as const) {
      await q.query(`
        CREATE TABLE ${table} (
          id uuid PRIMARY KEY,
          ${owner} uuid NOT NULL ${ref},
          user_id uuid,
          email text,
          name text,
          added_at timestamptz NOT NULL,
          CHECK ((user_id IS NULL) <> (email IS NULL))
        )`);
      await q.query(`CREATE UNIQUE INDEX ${table}_user ON ${table} (${owner}, user_id) WHERE user_id IS NOT NULL`);
      await q.query(`CREATE UNIQUE INDEX ${table}_email ON ${table} (${owner}, lower(email)) WHERE email IS NOT NULL`);
    }
    await q.query(`
      CREATE TABLE stakeholder_updates (
        id uuid PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents (id),
        summary text NOT NULL,
        message text NOT NULL,
        recipients jsonb NOT NULL,
        sent_by jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX stakeholder_updates_incident ON stakeholder_updates (incident_id, created_at)`);

    // Post-incident reviews: at most one per incident.
    await q.query(`
      CREATE TABLE post_incident_reviews (
        id uuid PRIMARY KEY,
        incident_id uuid NOT NULL UNIQUE REFERENCES incidents (id),
        status text NOT NULL CHECK (status IN ('draft', 'in-review', 'published')),
        what_happened text NOT NULL DEFAULT '',
        impact text NOT NULL DEFAULT '',
        root_cause text NOT NULL DEFAULT '',
        owner_user_id uuid,
        created_automatically boolean NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX post_incident_reviews_status ON post_incident_reviews (status, created_at DESC)`);
    await q.query(`
      CREATE TABLE review_action_items (
        id uuid PRIMARY KEY,
        review_id uuid NOT NULL REFERENCES post_incident_reviews (id) ON DELETE CASCADE,
        description text NOT NULL,
        owner_user_id uuid,
        due_date date,
        status text NOT NULL CHECK (status IN ('open', 'done')),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX review_action_items_review ON review_action_items (review_id, created_at)`);
    await q.query(`CREATE INDEX review_action_items_owner ON review_action_items (owner_user_id, due_date) WHERE status = 'open'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['review_action_items', 'post_incident_reviews', 'stakeholder_updates', 'incident_stakeholders', 'service_stakeholders'])
      await q.query(`DROP TABLE ${t}`);
    await q.query('ALTER TABLE incidents DROP COLUMN problem_id');
    await q.query('DROP TABLE problems');
    await q.query('DROP SEQUENCE problem_number_seq');
    for (const t of ['incident_slas', 'sla_policies', 'incident_groups', 'teams', 'users']) await q.query(`DROP TABLE ${t}`);
    for (const i of [
      'incidents_created',
      'incidents_service_created',
      'incidents_team_created',
      'incidents_major',
      'incidents_assignees',
      'incident_alerts_service_created',
    ]) {
      await q.query(`DROP INDEX ${i}`);
    }
    await q.query(`
      ALTER TABLE incidents
        DROP CONSTRAINT incidents_resolved_at, DROP CONSTRAINT incidents_acknowledged_at, DROP CONSTRAINT incidents_snoozed_only_acknowledged,
        DROP COLUMN team_id, DROP COLUMN group_key, DROP COLUMN priority_source, DROP COLUMN first_acknowledged_at, DROP COLUMN snoozed_until,
        DROP COLUMN assignees, DROP COLUMN escalation_level, DROP COLUMN major, DROP COLUMN conference_url, DROP COLUMN conference_dial_in,
        DROP COLUMN last_activity_at`);
  }
}
