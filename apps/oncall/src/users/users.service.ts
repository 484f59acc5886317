import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { TOKEN_SERVICE, TokenService } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { Outbox } from '#libs/messaging';
import { queryRows } from '#libs/database';
import { ConflictError, NotFoundError } from '#libs/platform';
import { TeamsService } from '../teams/teams.service.js';
import { User } from './user.entity.js';
import type { CreateUser, UpdateUser } from './users.dto.js';

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

  async issueToken(id: string, expiresInDays: number): Promise<{ token: string; tokenId: string; expiresAt: string }> {
    const user = await this.get(id);
    const tokenId = randomUUID();
    const now = this.clock.now();
    const seconds = expiresInDays * 86400;
    const token = await this.tokens.issue({ userId: user.id, role: user.role, tokenId, expiresInSeconds: seconds, now });
    return { token, tokenId, expiresAt: new Date(now.getTime() + seconds * 1000).toISOString() };
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
