import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { roleAtLeast, type Principal, type PrincipalCheck, type TeamRole } from '#libs/auth';
import type { EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { OnEvent, type EventContext } from '#libs/messaging';
import { untilArrived } from './arrival.js';
import { PlatformAudit1765000000003 } from './audit.js';

/** How long a token of a user this service has not heard of yet waits for oncall's directory event. */
const ARRIVAL_WAIT_MS = 3000;

/**
 * Every service's own copy of what tokens cannot say about themselves: each user's current role and
 * whether they were deleted (user.upserted / user.deleted), and the tokens revoked before their
 * expiry (token.revoked), all from the directory topic. The bearer-token guard consults it on every
 * request, without calling another service: a revoked token, or one of a deleted user, is refused
 * everywhere within moments; a demoted user's token acts with their new role.
 */
export class DirectoryPrincipals implements PrincipalCheck {
  constructor(private readonly db: DataSource) {}

  async check(p: Principal): Promise<Principal | { error: string }> {
    // A user created a moment ago may still have its directory event on the way.
    const found = await untilArrived(async () => {
      const [row] = await queryRows<{ role: Principal['role'] | null; deleted: boolean | null; revoked: boolean; teams: Record<string, TeamRole> }>(
        this.db,
        `SELECT u.role, u.deleted, EXISTS (SELECT 1 FROM auth_revoked_tokens WHERE token_id = $2) AS revoked,
                (SELECT coalesce(jsonb_object_agg(team_id, role), '{}') FROM auth_team_members WHERE user_id = $1) AS teams
         FROM (SELECT 1) one LEFT JOIN auth_users u ON u.user_id = $1`,
        [p.userId, p.tokenId],
      );
      if (row!.revoked) return { error: 'token was revoked' };
      if (row!.deleted) return { error: 'its user was deleted' };
      if (row!.role) return { ...p, role: roleAtLeast(row!.role, p.role) ? p.role : row!.role, teams: row!.teams };
      return undefined;
    }, ARRIVAL_WAIT_MS);
    return found ?? { error: 'its user is unknown here' };
  }
}

@Controller()
export class DirectoryPrincipalsController {
  @OnEvent('user.upserted')
  async onUserUpserted(@Payload() u: EventData<'user.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO auth_users (user_id, role, deleted, updated_at) VALUES ($1, $2, false, $3)
       ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at
       WHERE auth_users.updated_at <= EXCLUDED.updated_at AND NOT auth_users.deleted`,
      [u.userId, u.role, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('user.deleted')
  async onUserDeleted(@Payload() u: EventData<'user.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO auth_users (user_id, role, deleted, updated_at) VALUES ($1, 'viewer', true, $2)
       ON CONFLICT (user_id) DO UPDATE SET deleted = true, updated_at = greatest(auth_users.updated_at, EXCLUDED.updated_at)`,
      [u.userId, ctx.envelope.occurredAt],
    );
  }

  /** Team memberships (who is a manager, responder or observer of which team), replaced by each event. */
  @OnEvent('team.upserted')
  async onTeamUpserted(@Payload() t: EventData<'team.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    const [fresh] = await queryRows<{ fresh: boolean }>(
      ctx.manager,
      `INSERT INTO auth_teams (team_id, deleted, updated_at) VALUES ($1, false, $2)
       ON CONFLICT (team_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
       WHERE auth_teams.updated_at <= EXCLUDED.updated_at AND NOT auth_teams.deleted
       RETURNING true AS fresh`,
      [t.teamId, ctx.envelope.occurredAt],
    );
    if (!fresh) return;
    await ctx.manager.query('DELETE FROM auth_team_members WHERE team_id = $1', [t.teamId]);
    await ctx.manager.query(
      `INSERT INTO auth_team_members (team_id, user_id, role) SELECT $1, m.user_id, m.role FROM jsonb_to_recordset($2::jsonb) AS m(user_id uuid, role text)`,
      [t.teamId, JSON.stringify(t.members.map((m) => ({ user_id: m.userId, role: m.role })))],
    );
  }

  @OnEvent('team.deleted')
  async onTeamDeleted(@Payload() t: EventData<'team.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO auth_teams (team_id, deleted, updated_at) VALUES ($1, true, $2)
       ON CONFLICT (team_id) DO UPDATE SET deleted = true, updated_at = greatest(auth_teams.updated_at, EXCLUDED.updated_at)`,
      [t.teamId, ctx.envelope.occurredAt],
    );
    await ctx.manager.query('DELETE FROM auth_team_members WHERE team_id = $1', [t.teamId]);
  }

  @OnEvent('token.revoked')
  async onTokenRevoked(@Payload() t: EventData<'token.revoked'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(`INSERT INTO auth_revoked_tokens (token_id, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      t.tokenId,
      t.userId,
      t.expiresAt,
    ]);
  }
}

export class PlatformPrincipals1765000000001 implements MigrationInterface {
  name = 'PlatformPrincipals1765000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_users (
        user_id uuid PRIMARY KEY,
        role text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE auth_revoked_tokens (
        token_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE auth_revoked_tokens');
    await q.query('DROP TABLE auth_users');
  }
}

/** Team memberships behind roles scoped by team (libs/auth team-scope.ts). */
export class PlatformTeams1765000000004 implements MigrationInterface {
  name = 'PlatformTeams1765000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE auth_teams (team_id uuid PRIMARY KEY, deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL)`);
    await q.query(`
      CREATE TABLE auth_team_members (
        team_id uuid NOT NULL,
        user_id uuid NOT NULL,
        role text NOT NULL,
        PRIMARY KEY (team_id, user_id)
      )`);
    await q.query(`CREATE INDEX auth_team_members_user ON auth_team_members (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE auth_team_members');
    await q.query('DROP TABLE auth_teams');
  }
}

/** Every service lists these (the directory copy behind the bearer-token guard, team scope, and the audit log). */
export const AUTH_MIGRATIONS = [PlatformPrincipals1765000000001, PlatformAudit1765000000003, PlatformTeams1765000000004];
