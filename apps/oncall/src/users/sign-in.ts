import { Body, Controller, ForbiddenException, HttpCode, Inject, Injectable, Param, Post, Put, Req, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import * as argon2 from 'argon2';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Public, Roles, TOKEN_SERVICE, TokenService, type Principal } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { Outbox } from '#libs/messaging';
import { InvalidInputError, NotFoundError, TooManyRequestsError } from '#libs/platform';

/** How long a sign-in lasts (a new sign-in is needed after it; API tokens are for machines). */
export const SIGN_IN_HOURS = 12;
/** Failed sign-ins allowed in a window, per email address and per client address. */
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_CLIENT = 20;
export const FAILURE_WINDOW_MINUTES = 15;

const Password = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters')
  .refine((p) => p.trim().length >= 12, 'must be at least 12 characters that are not spaces');

const SetPassword = z.strictObject({
  password: Password,
  /** Needed when you change your own password and one is set. */
  currentPassword: z.string().max(256).optional(),
});

const SignIn = z.strictObject({
  email: z.string().trim().toLowerCase().max(320),
  password: z.string().max(256),
});

/** Checked when nobody has this email, so a wrong email takes as long as a wrong password (hashed on first need, not at start-up). */
let decoy: Promise<string> | undefined;
const decoyHash = (): Promise<string> => (decoy ??= argon2.hash('klaxon decoy password, never valid', { type: argon2.argon2id }));

export interface SignedIn {
  token: string;
  tokenId: string;
  expiresAt: string;
  user: { id: string; name: string; email: string; role: string };
}

/**
 * Local passwords (argon2id) for people. Signing in gives a token that lasts SIGN_IN_HOURS,
 * recorded like API tokens (kind "sign-in": listed, revocable, refused everywhere once revoked).
 * Failed attempts are limited per email and per client address; signing out revokes the token;
 * changing a password revokes the user's other sign-ins.
 */
@Injectable()
export class SignInService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async setPassword(who: Principal, userId: string, input: z.output<typeof SetPassword>): Promise<void> {
    const [user] = await queryRows<{ password_hash: string | null }>(this.db, 'SELECT password_hash FROM users WHERE id = $1', [userId]);
    if (!user) throw new NotFoundError('User', userId);
    if (who.role !== 'admin') {
      if (who.userId !== userId) throw new ForbiddenException('You can set your own password only; an admin can set anyone’s');
      if (user.password_hash && !(input.currentPassword && (await argon2.verify(user.password_hash, input.currentPassword)))) {
        throw new InvalidInputError('currentPassword: is not your current password');
      }
    }
    const hash = await argon2.hash(input.password, { type: argon2.argon2id });
    await this.db.transaction(async (em) => {
      const now = this.clock.now();
      await em.query('UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1', [userId, hash, now]);
      // Other sign-ins end: whoever knew the old password is signed out everywhere.
      const ended = await queryRows<{ id: string; expires_at: Date }>(
        em,
        `UPDATE api_tokens SET revoked_at = $3 WHERE user_id = $1 AND kind = 'sign-in' AND revoked_at IS NULL AND expires_at > $3 AND id <> $2
         RETURNING id, expires_at`,
        [userId, who.tokenId === 'bootstrap' ? randomUUID() : who.tokenId, now],
      );
      for (const t of ended) await this.outbox.publish(em, 'token.revoked', t.id, { tokenId: t.id, userId, expiresAt: new Date(t.expires_at).toISOString() });
    });
  }

  async signIn(input: z.output<typeof SignIn>, client: string): Promise<SignedIn> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - FAILURE_WINDOW_MINUTES * 60_000);
    const [counts] = await queryRows<{ email: number; client: number }>(
      this.db,
      `SELECT count(*) FILTER (WHERE key = $1)::int AS email, count(*) FILTER (WHERE key = $2)::int AS client
       FROM sign_in_failures WHERE key IN ($1, $2) AND at > $3`,
      [`email:${input.email}`, `client:${client}`, since],
    );
    if (counts!.email >= MAX_FAILURES_PER_EMAIL || counts!.client >= MAX_FAILURES_PER_CLIENT) {
      throw new TooManyRequestsError(
        `Too many failed sign-ins ${counts!.email >= MAX_FAILURES_PER_EMAIL ? 'for this email' : 'from this address'}; try again in ${FAILURE_WINDOW_MINUTES} minutes`,
      );
    }
    const [user] = await queryRows<{ id: string; name: string; email: string; role: Principal['role']; password_hash: string | null }>(
      this.db,
      'SELECT id, name, email, role, password_hash FROM users WHERE lower(email) = $1',
      [input.email],
    );
    const ok = user?.password_hash ? await argon2.verify(user.password_hash, input.password) : (await argon2.verify(await decoyHash(), input.password), false);
    if (!user || !ok) {
      await this.db.query(`INSERT INTO sign_in_failures (key, at) VALUES ($1, $3), ($2, $3)`, [`email:${input.email}`, `client:${client}`, now]);
      await this.db.query('DELETE FROM sign_in_failures WHERE at < $1', [new Date(now.getTime() - 24 * 3_600_000)]);
      throw new UnauthorizedException('That email and password do not match an account with a password set');
    }
    return this.issueSignIn(user, now);
  }

  /** A sign-in token for a person who proved who they are (a password here, or the identity provider). */
  async issueSignIn(user: { id: string; name: string; email: string; role: Principal['role'] }, now = this.clock.now()): Promise<SignedIn> {
    const tokenId = randomUUID();
    const seconds = SIGN_IN_HOURS * 3600;
    const expiresAt = new Date(now.getTime() + seconds * 1000);
    const token = await this.tokens.issue({ userId: user.id, role: user.role, tokenId, expiresInSeconds: seconds, now });
    await this.db.query(`INSERT INTO api_tokens (id, user_id, name, role, kind, created_at, expires_at) VALUES ($1, $2, 'Sign-in', $3, 'sign-in', $4, $5)`, [
      tokenId,
      user.id,
      user.role,
      now,
      expiresAt,
    ]);
    return { token, tokenId, expiresAt: expiresAt.toISOString(), user: { id: user.id, name: user.name, email: user.email, role: user.role } };
  }

  /** Revokes the token the request was made with (its user's sign-in, or an API token). */
  async signOut(who: Principal): Promise<void> {
    if (!who.userId) throw new InvalidInputError('The bootstrap admin token cannot be signed out; unset BOOTSTRAP_ADMIN_TOKEN instead');
    await this.db.transaction(async (em) => {
      const [t] = await queryRows<{ expires_at: Date }>(
        em,
        'UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING expires_at',
        [who.tokenId, who.userId, this.clock.now()],
      );
      if (t)
        await this.outbox.publish(em, 'token.revoked', who.tokenId, {
          tokenId: who.tokenId,
          userId: who.userId!,
          expiresAt: new Date(t.expires_at).toISOString(),
        });
    });
  }
}

const UserId = z.uuid({ message: 'must be a user id (a UUID)' });

@Controller('api/v1')
export class SignInController {
  constructor(private readonly signIns: SignInService) {}

  /** Signs a person in with email and password: a token for SIGN_IN_HOURS. */
  @Post('auth/sign-in')
  @Public()
  @HttpCode(200)
  signIn(@Body({ schema: SignIn }) body: z.output<typeof SignIn>, @Req() req: Request): Promise<SignedIn> {
    return this.signIns.signIn(body, req.ip ?? req.socket.remoteAddress ?? 'unknown');
  }

  /** Revokes the token this request carries, in every service. */
  @Post('auth/sign-out')
  @Roles('viewer')
  @HttpCode(204)
  signOut(@CurrentPrincipal() who: Principal): Promise<void> {
    return this.signIns.signOut(who);
  }

  /** Sets a password: your own (with the current one, once set), or anyone's as an admin. */
  @Put('users/:id/password')
  @Roles('viewer')
  @HttpCode(204)
  setPassword(
    @Param('id', { schema: UserId }) id: string,
    @Body({ schema: SetPassword }) body: z.output<typeof SetPassword>,
    @CurrentPrincipal() who: Principal,
  ): Promise<void> {
    return this.signIns.setPassword(who, id, body);
  }
}
