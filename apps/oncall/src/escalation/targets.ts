import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryRows } from '#libs/database';
import { onCallAt } from '../schedules/domain/final-schedule.js';
import { loadSchedules } from '../schedules/schedule.repository.js';
import type { Target } from './policy.js';

export interface PagedUser {
  id: string;
  name: string;
  email: string;
}

export interface ResolvedTarget {
  target: Target;
  /** For a schedule or team target, its name (null when it no longer exists). */
  name: string | null;
  users: PagedUser[];
}

type Db = Pick<EntityManager, 'query'>;

/** Turns a step's targets into the users to page at a moment. */
@Injectable()
export class TargetResolver {
  /** The users to page, each once, in the order of the step's targets. */
  async resolve(em: Db, targets: Target[], at: Date): Promise<PagedUser[]> {
    const seen = new Map<string, PagedUser>();
    for (const t of await this.resolveEach(em, targets, at)) for (const u of t.users) if (!seen.has(u.id)) seen.set(u.id, u);
    return [...seen.values()];
  }

  /** Each target with whom it stands for at `at` (the dry run shows this). */
  async resolveEach(em: Db, targets: Target[], at: Date): Promise<ResolvedTarget[]> {
    const ids = (type: Target['type']): string[] => targets.filter((t) => t.type === type).map((t) => t.id);
    const schedules = await loadSchedules(em, ids('schedule'), at, new Date(at.getTime() + 1));
    const onCall = new Map([...schedules].map(([id, s]) => [id, onCallAt(s.spec, at.getTime())]));
    const teams = ids('team').length
      ? await queryRows<{ id: string; name: string }>(em, 'SELECT id, name FROM teams WHERE id = ANY($1::uuid[])', [ids('team')])
      : [];
    const members = teams.length
      ? await queryRows<{ team_id: string; user_id: string }>(
          em,
          `SELECT m.team_id, m.user_id FROM team_members m JOIN users u ON u.id = m.user_id
           WHERE m.team_id = ANY($1::uuid[]) AND m.role <> 'observer' ORDER BY m.role, lower(u.name)`,
          [teams.map((t) => t.id)],
        )
      : [];
    const wanted = [...ids('user'), ...[...onCall.values()].filter((u): u is string => u !== null), ...members.map((m) => m.user_id)];
    // Users deleted since the policy was snapshotted are skipped.
    const users = wanted.length ? await queryRows<PagedUser>(em, 'SELECT id, name, email FROM users WHERE id = ANY($1::uuid[])', [[...new Set(wanted)]]) : [];
    const byId = new Map(users.map((u) => [u.id, u]));
    const pick = (userIds: (string | null)[]): PagedUser[] => userIds.flatMap((id) => (id && byId.has(id) ? [byId.get(id)!] : []));
    return targets.map((target) => {
      switch (target.type) {
        case 'user':
          return { target, name: byId.get(target.id)?.name ?? null, users: pick([target.id]) };
        case 'schedule':
          return { target, name: schedules.get(target.id)?.row.name ?? null, users: pick([onCall.get(target.id) ?? null]) };
        case 'team':
          return {
            target,
            name: teams.find((t) => t.id === target.id)?.name ?? null,
            users: pick(members.filter((m) => m.team_id === target.id).map((m) => m.user_id)),
          };
      }
    });
  }
}
