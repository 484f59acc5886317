import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { TOKEN_SERVICE, TokenService } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { Outbox } from '#libs/messaging';
import { queryRows } from '#libs/database';
import { ConflictError, InvalidInputError, NotFoundError } from '#libs/platform';
import { TeamsService } from '../teams/teams.service.js';
import { User } from './user.entity.js';
import type { CreateUser, UpdateUser } from './users.dto.js';

export interface ApiTokenView {
  id: string;
  name: string;
  /** "api" (issued for a machine or a script) or "sign-in" (a person signed in with a password). */
  kind: 'api' | 'sign-in';
  readOnly: boolean;
  role: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly teams: TeamsService,
  ) {}

  list(): Promise<User[]> {
    return this.db.getRepository(User).find({ order: { name: 'ASC' } });
  }

  async get(id: string): Promise<User> {
    const user = await this.db.getRepository(User).findOneBy({ id });
    if (!user) throw new NotFoundError('User', id);
    return user;
  }

  async create(input: CreateUser): Promise<User> {
    return this.db.transaction(async (em) => {
      await this.assertEmailFree(em, input.email);
      const user = em.create(User, { id: randomUUID(), ...input });
      await em.save(user);
      await this.announce(em, user);
      return user;
    });
  }

  async update(id: string, input: UpdateUser): Promise<User> {
    return this.db.transaction(async (em) => {
      const user = await em.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundError('User', id);
      if (input.email && input.email.toLowerCase() !== user.email.toLowerCase()) await this.assertEmailFree(em, input.email);
      Object.assign(user, input);
      await em.save(user);
      await this.announce(em, user);
      return user;
    });
  }

  /**
   * Refused while the user is in a rotation, a policy step or an upcoming override: silently
   * dropping them could leave a shift or a step with nobody to page. Team memberships go with them.
   */
  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const user = await em.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundError('User', id);
      const uses = await queryRows<{ what: string }>(
        em,
        `SELECT 'schedule "' || name || '"' AS what FROM schedules
           WHERE jsonb_path_exists(layers, '$[*].participants[*] ? (@ == $u)', jsonb_build_object('u', $1::text))
         UNION ALL SELECT 'escalation policy "' || name || '"' FROM escalation_policies
           WHERE jsonb_path_exists(steps, '$[*].targets[*] ? (@.type == "user" && @.id == $u)', jsonb_build_object('u', $1::text))
         UNION ALL SELECT 'an override on schedule "' || s.name || '"' FROM schedule_overrides o JOIN schedules s ON s.id = o.schedule_id
           WHERE o.user_id = $1::uuid AND o.ends_at > $2
         LIMIT 5`,
        [id, this.clock.now()],
      );
      if (uses.length)
        throw new ConflictError(
          `${user.name} is still in ${uses.map((u) => u.what).join(', ')}; take them out first so no shift or step is left without them unnoticed`,
        );
      const teams = await queryRows<{ team_id: string }>(em, 'SELECT team_id FROM team_members WHERE user_id = $1', [id]);
      await em.delete(User, { id });
      await this.outbox.publish(em, 'user.deleted', id, { userId: id });
      await this.teams.announce(
        em,
        teams.map((t) => t.team_id),
      );
    });
  }

  /** Issues an API token for the user with their current role. The token is shown once; only its record is kept. */
  async issueToken(
    id: string,
    input: { expiresInDays: number; name: string; readOnly: boolean },
  ): Promise<{ token: string; tokenId: string; expiresAt: string }> {
    const user = await this.get(id);
    const tokenId = randomUUID();
    const now = this.clock.now();
    const seconds = input.expiresInDays * 86400;
    const expiresAt = new Date(now.getTime() + seconds * 1000);
    const token = await this.tokens.issue({ userId: user.id, role: user.role, tokenId, expiresInSeconds: seconds, now, readOnly: input.readOnly });
    await this.db.query(`INSERT INTO api_tokens (id, user_id, name, role, read_only, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      tokenId,
      user.id,
      input.name,
      user.role,
      input.readOnly,
      now,
      expiresAt,
    ]);
    return { token, tokenId, expiresAt: expiresAt.toISOString() };
  }

  /** A user's tokens, newest first: never the token, only what it is and its state. */
  async listTokens(id: string): Promise<ApiTokenView[]> {
    await this.get(id);
    return queryRows<ApiTokenView>(
      this.db,
      `SELECT id, name, kind, role, read_only AS "readOnly", created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
       FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC`,
      [id],
    );
  }

  /** Revokes a token: every service refuses it once it hears (token.revoked on the directory topic). */
  async revokeToken(userId: string, tokenId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const [token] = await queryRows<{ expires_at: Date; revoked_at: Date | null }>(
        em,
        'SELECT expires_at, revoked_at FROM api_tokens WHERE id = $1 AND user_id = $2 FOR UPDATE',
        [tokenId, userId],
      );
      if (!token) throw new NotFoundError('API token', tokenId);
      if (token.revoked_at) throw new InvalidInputError(`API token ${tokenId} was already revoked`);
      await em.query('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1', [tokenId, this.clock.now()]);
      await this.outbox.publish(em, 'token.revoked', tokenId, { tokenId, userId, expiresAt: new Date(token.expires_at).toISOString() });
    });
  }

  /** Notes when a token was last used (oncall sees the requests made to it). */
  async noteTokenUsed(tokenId: string): Promise<void> {
    await this.db.query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')", [
      tokenId,
      this.clock.now(),
    ]);
  }

  private async assertEmailFree(em: EntityManager, email: string): Promise<void> {
    const taken = await em.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email]);
    if (taken.length) throw new ConflictError(`A user with email ${email} already exists`);
  }

  private async announce(em: EntityManager, user: User): Promise<void> {
    await this.outbox.publish(em, 'user.upserted', user.id, {
      userId: user.id,
      name: user.name,
      email: user.email,
      timeZone: user.timeZone,
      role: user.role,
    });
  }
}
