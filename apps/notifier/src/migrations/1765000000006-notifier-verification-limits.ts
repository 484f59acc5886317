import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Verification codes sent per number and per user in the last day (the daily limits count them). */
export class NotifierVerificationLimits1765000000006 implements MigrationInterface {
  name = 'NotifierVerificationLimits1765000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX notifications_verification_to ON notifications (destination, created_at) WHERE kind = 'verification'`);
    await q.query(`CREATE INDEX notifications_verification_user ON notifications (user_id, created_at) WHERE kind = 'verification'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX notifications_verification_user');
    await q.query('DROP INDEX notifications_verification_to');
  }
}
