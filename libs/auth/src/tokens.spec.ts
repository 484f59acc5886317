import { TokenService, roleAtLeast } from './tokens.js';

describe('API tokens', () => {
  const tokens = new TokenService('s'.repeat(40), 'bootstrap-admin-token-0123456789');

  it('issues a token that verifies to the user and role it was issued for', async () => {
    const t = await tokens.issue({ userId: 'u1', role: 'responder', tokenId: 't1', expiresInSeconds: 3600 });
    expect(await tokens.verify(t)).toEqual({ userId: 'u1', role: 'responder', tokenId: 't1' });
  });

  it('refuses an expired token with a reason the caller can act on', async () => {
    const t = await tokens.issue({ userId: 'u1', role: 'admin', tokenId: 't2', expiresInSeconds: 60, now: new Date(Date.now() - 3600_000) });
    expect(await tokens.verify(t)).toEqual({ error: 'token has expired: ask an admin for a new one' });
  });

  it('refuses a token signed with another secret, or tampered with', async () => {
    const other = new TokenService('o'.repeat(40));
    const t = await other.issue({ userId: 'u1', role: 'admin', tokenId: 't3', expiresInSeconds: 3600 });
    expect(await tokens.verify(t)).toEqual({ error: 'token is not valid' });
    const mine = await tokens.issue({ userId: 'u1', role: 'viewer', tokenId: 't4', expiresInSeconds: 3600 });
    const [h, p, s] = mine.split('.');
    const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'admin' })).toString('base64url');
    expect(await tokens.verify(`${h}.${elevated}.${s}`)).toEqual({ error: 'token is not valid' });
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
