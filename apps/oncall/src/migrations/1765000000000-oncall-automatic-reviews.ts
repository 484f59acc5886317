import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Which incidents of a service get a draft post-incident review on resolve (major ones by default). */
export class OncallAutomaticReviews1765000000000 implements MigrationInterface {
  name = 'OncallAutomaticReviews1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE services ADD COLUMN automatic_reviews text NOT NULL DEFAULT 'major' CHECK (automatic_reviews IN ('off', 'major', 'major-and-p1-p2'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE services DROP COLUMN automatic_reviews');
  }
}
