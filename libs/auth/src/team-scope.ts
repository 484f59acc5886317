import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, SetMetadata, type Type } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { roleAtLeast, type Principal, type Role } from './tokens.js';

/**
 * Roles scoped by team. A person's global role (viewer < responder < admin) caps what they can do
 * anywhere; their team memberships say where. On anything a team owns:
 * - a team **responder** (or manager) acts on it as a responder: acknowledges, resolves, reassigns
 *   the team's incidents, adds notes and stakeholder updates, creates overrides on its schedules,
 *   resolves its alerts;
 * - a team **manager** also manages it: the team's services, schedules, escalation policies,
 *   integrations, maintenance windows, SLAs and the team's membership;
 * - an **observer**, or someone outside the team, reads it only.
 * Admins act on everything. What no team owns stays as before teams: responders act on it, admins
 * manage it (a route may say otherwise: maintenance windows on unowned services stay open to responders).
 */
export type TeamNeed = 'responder' | 'manager';

/** The teams owning what a request touches (null: owned by no team), or null when it does not exist. */
export interface TeamOwners {
  ownersOf(req: Request): Promise<(string | null)[] | null>;
}

const SCOPE = 'klaxon:team-scope';

/**
 * Marks a route that acts on something a team owns: `owners` (an injectable of the service's
 * module) says which teams own what the request touches; the route needs `need` in each of them.
 * The global bearer-token guard runs first; a route needing 'manager' takes @Roles('responder').
 */
export const TeamScoped = (
  owners: Type<TeamOwners>,
  need: TeamNeed,
  unowned: Role = need === 'manager' ? 'admin' : 'responder',
): MethodDecorator & ClassDecorator => SetMetadata(SCOPE, { owners, need, unowned });

/** Whether `p` may act with `need` on something owned by `owners` (`unowned`: the role needed where no team owns it); otherwise why not. */
export function teamAllows(p: Principal, owners: (string | null)[], need: TeamNeed, unowned: Role = need === 'manager' ? 'admin' : 'responder'): true | string {
  if (p.role === 'admin') return true;
  for (const team of new Set(owners)) {
    if (team === null) {
      if (!roleAtLeast(p.role, unowned)) return `it belongs to no team, so it needs the ${unowned} role`;
      continue;
    }
    const mine = p.teams?.[team];
    if (need === 'manager' && mine !== 'manager') return `this needs a manager of team ${team}${mine ? `; you are its ${mine}` : ''}`;
    if (need === 'responder' && mine !== 'manager' && mine !== 'responder')
      return `this needs a responder or manager of team ${team}${mine ? `; you are its ${mine}` : '; you are not a member'}`;
  }
  return true;
}

/** Enforces @TeamScoped after the bearer-token guard (registered as a global guard after it). */
@Injectable()
export class TeamScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const scope = this.reflector.getAllAndOverride<{ owners: Type<TeamOwners>; need: TeamNeed; unowned: Role } | undefined>(SCOPE, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (!scope || !req.principal || req.principal.role === 'admin') return true;
    const owners = await this.moduleRef.get(scope.owners, { strict: false }).ownersOf(req);
    if (owners === null) return true; // nothing there: the route answers its own 404
    const verdict = teamAllows(req.principal, owners, scope.need, scope.unowned);
    if (verdict !== true) throw new ForbiddenException(`Not allowed: ${verdict}`);
    return true;
  }
}
