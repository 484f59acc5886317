import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { Outbox } from '#libs/messaging';
import { ConflictError, InvalidInputError, NotFoundError } from '#libs/platform';
import type { TeamInput } from './teams.dto.js';

interface TeamRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}

interface MemberRow {
  team_id: string;
  user_id: string;
  role: TeamInput['members'][number]['role'];
  name: string;
  email: string;
}

export interface TeamView {
  id: string;
  name: string;
  description: string;
  members: { userId: string; name: string; email: string; role: MemberRow['role'] }[];
  createdAt: string;
  updatedAt: string;
}

@Injectable()
export class TeamsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(): Promise<TeamView[]> {
    const teams = await queryRows<TeamRow>(this.db, 'SELECT * FROM teams ORDER BY lower(name), id');
    const members = await this.members(
      this.db,
      teams.map((t) => t.id),
    );
    return teams.map((t) => toView(t, members));
  }

  async get(id: string): Promise<TeamView> {
    const [team] = await queryRows<TeamRow>(this.db, 'SELECT * FROM teams WHERE id = $1', [id]);
    if (!team) throw new NotFoundError('Team', id);
    return toView(team, await this.members(this.db, [id]));
  }

  create(input: TeamInput): Promise<TeamView> {
    return this.db.transaction(async (em) => {
      await this.assertNameFree(em, input.name);
      const now = this.clock.now();
      const [team] = await queryRows<TeamRow>(em, 'INSERT INTO teams (id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING *', [
        randomUUID(),
        input.name,
        input.description,
        now,
      ]);
      return this.saveMembers(em, team!, input.members);
    });
  }

  update(id: string, input: TeamInput): Promise<TeamView> {
    return this.db.transaction(async (em) => {
      const [current] = await queryRows<TeamRow>(em, 'SELECT * FROM teams WHERE id = $1 FOR UPDATE', [id]);
      if (!current) throw new NotFoundError('Team', id);
      if (current.name.toLowerCase() !== input.name.toLowerCase()) await this.assertNameFree(em, input.name);
      const [team] = await queryRows<TeamRow>(em, 'UPDATE teams SET name = $2, description = $3, updated_at = $4 WHERE id = $1 RETURNING *', [
        id,
        input.name,
        input.description,
        this.clock.now(),
      ]);
      await em.query('DELETE FROM team_members WHERE team_id = $1', [id]);
      return this.saveMembers(em, team!, input.members);
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const [team] = await queryRows<TeamRow>(em, 'SELECT * FROM teams WHERE id = $1 FOR UPDATE', [id]);
      if (!team) throw new NotFoundError('Team', id);
      const users = await queryRows<{ what: string }>(
        em,
        `SELECT 'service "' || name || '"' AS what FROM services WHERE team_id = $1
         UNION ALL SELECT 'schedule "' || name || '"' FROM schedules WHERE team_id = $1
         UNION ALL SELECT 'escalation policy "' || name || '"' FROM escalation_policies WHERE team_id = $1
         UNION ALL SELECT 'escalation policy "' || name || '"' FROM escalation_policies
           WHERE jsonb_path_exists(steps, '$[*].targets[*] ? (@.type == "team" && @.id == $id)', jsonb_build_object('id', $1::text))
         LIMIT 5`,
        [id],
      );
      if (users.length) throw new ConflictError(`Team "${team.name}" is used by ${users.map((u) => u.what).join(', ')}; move those to another team first`);
      await em.query('DELETE FROM teams WHERE id = $1', [id]);
      await this.outbox.publish(em, 'team.deleted', id, { teamId: id });
    });
  }

  /** Re-announces teams whose membership changed outside this service's own writes (a user deleted). */
  async announce(em: EntityManager, teamIds: string[]): Promise<void> {
    for (const id of teamIds) {
      const [team] = await queryRows<TeamRow>(em, 'SELECT * FROM teams WHERE id = $1', [id]);
      if (team) await this.publish(em, toView(team, await this.members(em, [id])));
    }
  }

  private async saveMembers(em: EntityManager, team: TeamRow, members: TeamInput['members']): Promise<TeamView> {
    if (members.length) {
      const ids = members.map((m) => m.userId);
      const found = await queryRows<{ id: string }>(em, 'SELECT id FROM users WHERE id = ANY($1::uuid[])', [ids]);
      const missing = ids.filter((u) => !found.some((f) => f.id === u));
      if (missing.length) throw new InvalidInputError(`Unknown member${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}; add them as users first`);
      await em.query(`INSERT INTO team_members (team_id, user_id, role) SELECT $1, m.user_id, m.role FROM unnest($2::uuid[], $3::text[]) AS m(user_id, role)`, [
        team.id,
        ids,
        members.map((m) => m.role),
      ]);
    }
    const view = toView(team, await this.members(em, [team.id]));
    await this.publish(em, view);
    return view;
  }

  private async publish(em: EntityManager, team: TeamView): Promise<void> {
    await this.outbox.publish(em, 'team.upserted', team.id, {
      teamId: team.id,
      name: team.name,
      members: team.members.map((m) => ({ userId: m.userId, role: m.role })),
    });
  }

  private members(db: Pick<EntityManager, 'query'>, teamIds: string[]): Promise<MemberRow[]> {
    if (!teamIds.length) return Promise.resolve([]);
    return queryRows<MemberRow>(
      db,
      `SELECT m.team_id, m.user_id, m.role, u.name, u.email FROM team_members m JOIN users u ON u.id = m.user_id
       WHERE m.team_id = ANY($1::uuid[]) ORDER BY array_position(ARRAY['manager','responder','observer'], m.role), lower(u.name)`,
      [teamIds],
    );
  }

  private async assertNameFree(em: EntityManager, name: string): Promise<void> {
    const taken = await em.query('SELECT 1 FROM teams WHERE lower(name) = lower($1)', [name]);
    if (taken.length) throw new ConflictError(`A team named "${name}" already exists`);
  }
}

function toView(t: TeamRow, members: MemberRow[]): TeamView {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    members: members.filter((m) => m.team_id === t.id).map((m) => ({ userId: m.user_id, name: m.name, email: m.email, role: m.role })),
    createdAt: t.created_at.toISOString(),
    updatedAt: t.updated_at.toISOString(),
  };
}
