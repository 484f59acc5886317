import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { TeamOwners } from '#libs/auth';
import { bodyTeam, teamsFrom, uuidOf } from '#libs/platform';

/**
 * Owners of oncall's things by their table: the team of the row `:id` names and, when a PUT
 * replaces it, the team the body gives it (absent: none), so a manager of team A can neither hand
 * a service to team B nor take one from it. Creating (no `:id`): the team the body gives it.
 */
abstract class OwnersByTable implements TeamOwners {
  protected abstract readonly table: 'services' | 'schedules' | 'escalation_policies';

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const given = bodyTeam(req) ?? null;
    if (req.params.id === undefined) return [given];
    const id = uuidOf(req.params.id);
    if (!id) return [];
    const current = await teamsFrom(this.db, `SELECT team_id FROM ${this.table} WHERE id = $1`, [id]);
    return current === null ? null : [...current, ...(req.method === 'PUT' ? [given] : [])];
  }
}

@Injectable()
export class ServiceOwners extends OwnersByTable {
  protected readonly table = 'services';
}

@Injectable()
export class ScheduleOwners extends OwnersByTable {
  protected readonly table = 'schedules';
}

@Injectable()
export class PolicyOwners extends OwnersByTable {
  protected readonly table = 'escalation_policies';
}

/** A team itself: `:id` is the team (its managers change its membership). */
@Injectable()
export class TeamItselfOwners implements TeamOwners {
  async ownersOf(req: Request): Promise<(string | null)[]> {
    const id = uuidOf(req.params.id);
    return id ? [id] : [];
  }
}
