import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { InvalidInputError, NotFoundError } from '#libs/platform';
import { EscalationPolicy } from './policy.entity.js';
import type { PolicyInput, Target } from './policy.js';

@Injectable()
export class PoliciesService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  list(): Promise<EscalationPolicy[]> {
    return this.db.getRepository(EscalationPolicy).find({ order: { name: 'ASC' } });
  }

  async get(id: string): Promise<EscalationPolicy> {
    const p = await this.db.getRepository(EscalationPolicy).findOneBy({ id });
    if (!p) throw new NotFoundError('Escalation policy', id);
    return p;
  }

  create(input: PolicyInput): Promise<EscalationPolicy> {
    return this.db.transaction(async (em) => {
      await this.assertTargetsExist(
        em,
        input.steps.flatMap((s) => s.targets),
      );
      await this.assertTeamExists(em, input.teamId);
      const policy = em.create(EscalationPolicy, { id: randomUUID(), ...input });
      return em.save(policy);
    });
  }

  update(id: string, input: PolicyInput): Promise<EscalationPolicy> {
    return this.db.transaction(async (em) => {
      const policy = await em.findOne(EscalationPolicy, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!policy) throw new NotFoundError('Escalation policy', id);
      await this.assertTargetsExist(
        em,
        input.steps.flatMap((s) => s.targets),
      );
      await this.assertTeamExists(em, input.teamId);
      Object.assign(policy, input);
      return em.save(policy);
    });
  }

  async remove(id: string): Promise<void> {
    const used = await this.db.query('SELECT name FROM services WHERE escalation_policy_id = $1 LIMIT 3', [id]);
    if (used.length) {
      throw new InvalidInputError(
        `Escalation policy ${id} is used by ${used.map((s: { name: string }) => s.name).join(', ')}; point those services elsewhere first`,
      );
    }
    const result = await this.db.getRepository(EscalationPolicy).delete({ id });
    if (!result.affected) throw new NotFoundError('Escalation policy', id);
  }

  private async assertTeamExists(em: EntityManager, teamId: string | null): Promise<void> {
    if (teamId && !(await em.query('SELECT 1 FROM teams WHERE id = $1', [teamId])).length) throw new InvalidInputError(`Team ${teamId} does not exist`);
  }

  private async assertTargetsExist(em: EntityManager, targets: Target[]): Promise<void> {
    const tables: Record<Target['type'], string> = { user: 'users', schedule: 'schedules', team: 'teams' };
    for (const type of Object.keys(tables) as Target['type'][]) {
      const ids = [...new Set(targets.filter((t) => t.type === type).map((t) => t.id))];
      if (!ids.length) continue;
      const found: { id: string }[] = await em.query(`SELECT id FROM ${tables[type]} WHERE id = ANY($1::uuid[])`, [ids]);
      const missing = ids.filter((id) => !found.some((f) => f.id === id));
      if (missing.length) throw new InvalidInputError(`Unknown ${type} target${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
    }
  }
}
