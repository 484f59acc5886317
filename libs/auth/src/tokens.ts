import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a user with a role, or the bootstrap admin from the environment. */
export interface Principal {
  userId: string | null;
  role: Role;
  /** Token id, for audit lines; never the token itself. */
  tokenId: string;
  /** The user's teams and their role in each, from the service's directory copy (absent for the bootstrap admin). */
  teams?: Readonly<Record<string, TeamRole>>;
}

export const TEAM_ROLES = ['observer', 'responder', 'manager'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** How records name an action taken with the bootstrap admin token (it belongs to no user). */
export const BOOTSTRAP_ADMIN_NAME = 'Administrator (bootstrap token)';

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

const ISSUER = 'klaxon';
const AUDIENCE = 'klaxon-api';

/**
 * API tokens are JWTs (HS256) signed with AUTH_SECRET, which every service shares, so any service
 * can check a token without asking another. Tokens carry the user's role and expire.
 */
export class TokenService {
  private readonly key: Uint8Array;
  private readonly bootstrapDigest?: Buffer;

  constructor(secret: string, bootstrapAdminToken?: string) {
    this.key = new TextEncoder().encode(secret);
    if (bootstrapAdminToken) this.bootstrapDigest = sha256(bootstrapAdminToken);
  }

  async issue(input: { userId: string; role: Role; tokenId: string; expiresInSeconds: number; now?: Date }): Promise<string> {
    const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
    return new SignJWT({ role: input.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(input.userId)
      .setJti(input.tokenId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + input.expiresInSeconds)
      .sign(this.key);
  }

  /** Returns the principal, or a reason a user can act on. */
  async verify(token: string): Promise<Principal | { error: string }> {
    if (this.bootstrapDigest && timingSafeEqual(sha256(token), this.bootstrapDigest)) {
      return { userId: null, role: 'admin', tokenId: 'bootstrap' };
    }
    try {
      // A token must say who, which token and until when: one without an expiry is refused.
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      const role = payload.role;
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role) || !payload.sub || !payload.jti) {
        return { error: 'token is not a Klaxon API token' };
      }
      return { userId: payload.sub, role: role as Role, tokenId: payload.jti };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { error: 'token has expired: ask an admin for a new one' };
      return { error: 'token is not valid' };
    }
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
