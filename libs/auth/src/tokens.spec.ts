import { generateKeyPairSync } from 'node:crypto';
import { TokenService, roleAtLeast, type SigningJwk } from './tokens.js';

function keyPair(kid: string): { signingKey: SigningJwk; publicKey: SigningJwk } {
  const { x, d } = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  return { signingKey: { kty: 'OKP', crv: 'Ed25519', x, d, kid }, publicKey: { kty: 'OKP', crv: 'Ed25519', x, kid } };
}

describe('API tokens', () => {
  const mine = keyPair('k1');
  const tokens = new TokenService({ publicKeys: [mine.publicKey], signingKey: mine.signingKey }, 'bootstrap-admin-token-0123456789');

  it('issues a token that verifies to the user and role it was issued for', async () => {
    const t = await tokens.issue({ userId: 'u1', role: 'responder', tokenId: 't1', expiresInSeconds: 3600 });
    expect(await tokens.verify(t)).toEqual({ userId: 'u1', role: 'responder', tokenId: 't1' });
  });

  it('refuses an expired token with a reason the caller can act on', async () => {
    const t = await tokens.issue({ userId: 'u1', role: 'admin', tokenId: 't2', expiresInSeconds: 60, now: new Date(Date.now() - 3600_000) });
    expect(await tokens.verify(t)).toEqual({ error: 'token has expired: ask an admin for a new one' });
  });

  it('refuses a token signed with another key (even one claiming the same kid), or tampered with', async () => {
    const stranger = keyPair('k1');
    const other = new TokenService({ publicKeys: [stranger.publicKey], signingKey: stranger.signingKey });
    const t = await other.issue({ userId: 'u1', role: 'admin', tokenId: 't3', expiresInSeconds: 3600 });
    expect(await tokens.verify(t)).toEqual({ error: 'token is not valid' });
    const own = await tokens.issue({ userId: 'u1', role: 'viewer', tokenId: 't4', expiresInSeconds: 3600 });
    const [h, p, s] = own.split('.');
    const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'admin' })).toString('base64url');
    expect(await tokens.verify(`${h}.${elevated}.${s}`)).toEqual({ error: 'token is not valid' });
  });

  it('a service with only the public keys checks tokens but cannot make one; rotation accepts old and new keys', async () => {
    const next = keyPair('k2');
    const verifier = new TokenService({ publicKeys: [mine.publicKey, next.publicKey] });
    await expect(verifier.issue({ userId: 'u1', role: 'admin', tokenId: 't5', expiresInSeconds: 60 })).rejects.toThrow('only oncall issues tokens');
    const old = await tokens.issue({ userId: 'u1', role: 'viewer', tokenId: 't6', expiresInSeconds: 60 });
    const rotated = new TokenService({ publicKeys: [mine.publicKey, next.publicKey], signingKey: next.signingKey });
    const fresh = await rotated.issue({ userId: 'u2', role: 'viewer', tokenId: 't7', expiresInSeconds: 60 });
    expect(await verifier.verify(old)).toMatchObject({ userId: 'u1' });
    expect(await verifier.verify(fresh)).toMatchObject({ userId: 'u2' });
    expect(await tokens.verify(fresh)).toEqual({ error: 'token is not valid' });
  });

  it('accepts the bootstrap admin token from the environment, and only that exact token', async () => {
    expect(await tokens.verify('bootstrap-admin-token-0123456789')).toEqual({ userId: null, role: 'admin', tokenId: 'bootstrap' });
    expect(await tokens.verify('bootstrap-admin-token-012345678')).toEqual({ error: 'token is not valid' });
  });

  it('orders roles viewer < responder < admin', () => {
    expect(roleAtLeast('admin', 'responder')).toBe(true);
    expect(roleAtLeast('responder', 'responder')).toBe(true);
    expect(roleAtLeast('viewer', 'responder')).toBe(false);
  });
});
