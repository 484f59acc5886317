import {
  BadRequestException,
  Controller,
  ForbiddenException,
  Get,
  Inject,
  Injectable,
  NotFoundException,
  Query,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import * as oidc from 'openid-client';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Public, type Principal } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { queryRows } from '#libs/database';
import type { OncallConfig } from '../config.js';
import { publicBase } from '../schedules/feeds.js';
import { SignInService, type SignedIn } from './sign-in.js';

/** How long a sign-in at the identity provider may take, from start to callback. */
export const OIDC_SIGN_IN_MINUTES = 10;

/**
 * Single sign-on with an OpenID Connect identity provider (Okta, Entra ID, Google, Keycloak…), by
 * openid-client: the authorization code flow with PKCE, state and nonce (kept in the database,
 * used once, for ten minutes). A person signs in as the Klaxon user with the provider's verified
 * email (or the subject they signed in with before): there is no account without an admin creating
 * it, so an identity provider shared with other apps does not make everyone a Klaxon user.
 */
@Injectable()
export class OidcService {
  private configuration?: Promise<oidc.Configuration>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: OncallConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly signIns: SignInService,
  ) {}

  get enabled(): boolean {
    return !!this.config.OIDC_ISSUER_URL;
  }

  /** The provider's metadata, discovered once (again after a failure). */
  private provider(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(
        new URL(this.config.OIDC_ISSUER_URL!),
        this.config.OIDC_CLIENT_ID!,
        this.config.OIDC_CLIENT_SECRET,
        undefined,
        this.config.OIDC_ALLOW_HTTP ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw new UnauthorizedException(`The identity provider could not be reached: ${err instanceof Error ? err.message : String(err)}`);
      });
    return this.configuration;
  }

  /** Where to send the browser to sign in. */
  async start(redirectUri: string): Promise<string> {
    const config = await this.provider();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const now = this.clock.now();
    await this.db.query('DELETE FROM oidc_sign_ins WHERE created_at < $1', [new Date(now.getTime() - OIDC_SIGN_IN_MINUTES * 60_000)]);
    await this.db.query('INSERT INTO oidc_sign_ins (state, nonce, verifier, redirect_uri, created_at) VALUES ($1, $2, $3, $4, $5)', [
      state,
      nonce,
      verifier,
      redirectUri,
      now,
    ]);
    return oidc
      .buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      })
      .toString();
  }

  /** The provider sent the browser back: the code becomes the user's sign-in. */
  async callback(currentUrl: URL, state: string): Promise<SignedIn> {
    const config = await this.provider();
    const [pending] = await queryRows<{ nonce: string; verifier: string; redirect_uri: string; created_at: Date }>(
      this.db,
      'DELETE FROM oidc_sign_ins WHERE state = $1 RETURNING nonce, verifier, redirect_uri, created_at',
      [state],
    );
    if (!pending || this.clock.now().getTime() - new Date(pending.created_at).getTime() > OIDC_SIGN_IN_MINUTES * 60_000) {
      throw new BadRequestException('This sign-in link was used already or has expired: start again');
    }
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
      });
      claims = tokens.claims();
    } catch (err) {
      throw new UnauthorizedException(`The identity provider did not confirm the sign-in: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!claims) throw new UnauthorizedException('The identity provider sent no ID token');
    const subject = `${claims.iss}|${claims.sub}`;
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
    const [user] = await queryRows<{ id: string; name: string; email: string; role: Principal['role'] }>(
      this.db,
      `SELECT id, name, email, role FROM users WHERE oidc_subject = $1
       UNION ALL SELECT id, name, email, role FROM users WHERE $2::text IS NOT NULL AND lower(email) = $2 AND oidc_subject IS NULL
       LIMIT 1`,
      [subject, claims.email_verified === false ? null : (email ?? null)],
    );
    if (!user) {
      throw new ForbiddenException(
        email && claims.email_verified !== false
          ? `No Klaxon user has the email ${email}: an admin creates people in Klaxon first`
          : 'The identity provider gave no verified email to find your Klaxon user by',
      );
    }
    await this.db.query('UPDATE users SET oidc_subject = $2 WHERE id = $1 AND oidc_subject IS NULL', [user.id, subject]);
    return this.signIns.issueSignIn(user);
  }
}

@Controller('api/v1/auth/oidc')
@Public()
export class OidcController {
  constructor(
    private readonly oidc: OidcService,
    @Inject(CONFIG) private readonly config: OncallConfig,
  ) {}

  private redirectUri(req: Request): string {
    return `${publicBase(this.config.PUBLIC_URL, req)}/api/v1/auth/oidc/callback`;
  }

  /** Starts single sign-on: a redirect to the identity provider. */
  @Get('start')
  async start(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.oidc.enabled) throw new NotFoundException('Single sign-on is not configured (OIDC_ISSUER_URL)');
    res.redirect(303, await this.oidc.start(this.redirectUri(req)));
  }

  /** Where the identity provider sends the browser back; answers the sign-in (token for 12 hours). */
  @Get('callback')
  async callback(@Query({ schema: z.looseObject({ state: z.string().min(1).max(200) }) }) q: { state: string }, @Req() req: Request): Promise<SignedIn> {
    if (!this.oidc.enabled) throw new NotFoundException('Single sign-on is not configured (OIDC_ISSUER_URL)');
    const url = new URL(req.originalUrl, this.redirectUri(req));
    return this.oidc.callback(url, q.state);
  }
}
