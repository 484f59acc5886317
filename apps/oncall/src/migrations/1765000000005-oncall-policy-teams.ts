import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Escalation policies get an owning team (whose managers may change them); existing ones belong to none. */
export class OncallPolicyTeams1765000000005 implements MigrationInterface {
  name = 'OncallPolicyTeams1765000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE escalation_policies ADD COLUMN team_id uuid REFERENCES teams (id)`);
    await q.query(`CREATE INDEX escalation_policies_team ON escalation_policies (team_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE escalation_policies DROP COLUMN team_id');
  }
}
