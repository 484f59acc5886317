import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify, errors as joseErrors } from 'jose';

export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a user with a role, or the bootstrap admin from the environment. */
export interface Principal {
  userId: string | null;
  role: Role;
  /** Token id, for audit lines; never the token itself. */
  tokenId: string;
  /** A read-only token: every service refuses it any change (anything but GET and HEAD). */
  readOnly?: boolean;
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

/** An Ed25519 key as a JWK (kty OKP): public (x) or private (x and d), named by kid. */
export interface SigningJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid: string;
}

/**
 * Tokens are JWTs signed with Ed25519 (EdDSA) by oncall alone, which holds the private key
 * (AUTH_SIGNING_KEY); every other service has only the public keys (AUTH_PUBLIC_KEYS, a JWKS), so
 * it can check a token without asking anyone but cannot make one, and a compromised
 * internet-facing service cannot mint an admin token. Keys are named by kid: to rotate, publish the
 * new public key beside the old, switch oncall's signing key, and drop the old key once the tokens
 * it signed have expired. Tokens carry the user's role and always expire.
 */
export class TokenService {
  private readonly publicKeys: ReturnType<typeof createLocalJWKSet>;
  private readonly signing?: { kid: string; key: ReturnType<typeof importJWK> };
  private readonly bootstrapDigest?: Buffer;

  constructor(keys: { publicKeys: SigningJwk[]; signingKey?: SigningJwk }, bootstrapAdminToken?: string) {
    this.publicKeys = createLocalJWKSet({ keys: keys.publicKeys.map(({ d: _private, ...pub }) => ({ ...pub, alg: 'EdDSA', use: 'sig' })) });
    if (keys.signingKey) this.signing = { kid: keys.signingKey.kid, key: importJWK({ ...keys.signingKey, alg: 'EdDSA' }, 'EdDSA') };
    if (bootstrapAdminToken) this.bootstrapDigest = sha256(bootstrapAdminToken);
  }

  async issue(input: { userId: string; role: Role; tokenId: string; expiresInSeconds: number; now?: Date; readOnly?: boolean }): Promise<string> {
    if (!this.signing) throw new Error('This service has no signing key: only oncall issues tokens');
    const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
    return new SignJWT({ role: input.role, ...(input.readOnly ? { scope: 'read' } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: this.signing.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(input.userId)
      .setJti(input.tokenId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + input.expiresInSeconds)
      .sign(await this.signing.key);
  }

  /** Returns the principal, or a reason a user can act on. */
  async verify(token: string): Promise<Principal | { error: string }> {
    if (this.bootstrapDigest && timingSafeEqual(sha256(token), this.bootstrapDigest)) {
      return { userId: null, role: 'admin', tokenId: 'bootstrap' };
    }
    try {
      // A token must say who, which token and until when: one without an expiry is refused.
      const { payload } = await jwtVerify(token, this.publicKeys, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['EdDSA'],
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      const role = payload.role;
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role) || !payload.sub || !payload.jti) {
        return { error: 'token is not a Klaxon API token' };
      }
      return { userId: payload.sub, role: role as Role, tokenId: payload.jti, ...(payload.scope === 'read' ? { readOnly: true } : {}) };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { error: 'token has expired: ask an admin for a new one' };
      return { error: 'token is not valid' };
    }
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
