import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API tokens as issued: listed (never the token itself), revocable, with when they were last used here. */
export class OncallApiTokens1765000000002 implements MigrationInterface {
  name = 'OncallApiTokens1765000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        name text NOT NULL DEFAULT '',
        role text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        last_used_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_tokens');
  }
}
