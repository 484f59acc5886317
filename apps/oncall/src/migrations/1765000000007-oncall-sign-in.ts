import type { MigrationInterface, QueryRunner } from 'typeorm';

/** People sign in with a password: its argon2id hash, sign-in tokens told apart from API tokens, and failed attempts (for the limits). */
export class OncallSignIn1765000000007 implements MigrationInterface {
  name = 'OncallSignIn1765000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN password_hash text, ADD COLUMN password_changed_at timestamptz`);
    await q.query(
      `ALTER TABLE api_tokens ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'sign-in')), ADD COLUMN read_only boolean NOT NULL DEFAULT false`,
    );
    await q.query(`CREATE TABLE sign_in_failures (key text NOT NULL, at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sign_in_failures');
    await q.query('ALTER TABLE api_tokens DROP COLUMN kind, DROP COLUMN read_only');
    await q.query('ALTER TABLE users DROP COLUMN password_hash, DROP COLUMN password_changed_at');
  }
}
