import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Single sign-on (OIDC): the identity provider's subject a user signed in as, and sign-ins under way (state, nonce, PKCE verifier; used once). */
export class OncallOidc1765000000008 implements MigrationInterface {
  name = 'OncallOidc1765000000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN oidc_subject text`);
    await q.query(`CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject IS NOT NULL`);
    await q.query(
      `CREATE TABLE oidc_sign_ins (state text PRIMARY KEY, nonce text NOT NULL, verifier text NOT NULL, redirect_uri text NOT NULL, created_at timestamptz NOT NULL)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE oidc_sign_ins');
    await q.query('ALTER TABLE users DROP COLUMN oidc_subject');
  }
}
