import { randomUUID } from 'node:crypto';
import { browse, expectOk, freePort, LocalOidcProvider, PagingSystem } from '#libs/testing';

/**
 * Single sign-on against a real OpenID Connect provider (node-oidc-provider on this machine): the
 * browser goes to oncall, on to the provider, back with a code, and comes out signed in as the
 * Klaxon user with the provider's verified email. Nobody gets in without an account an admin made.
 */
describe('scenarios: single sign-on (OIDC)', () => {
  let sys: PagingSystem;
  let idp: LocalOidcProvider;
  const ana = `ana-${randomUUID().slice(0, 6)}@example.com`;

  beforeAll(async () => {
    const port = await freePort();
    idp = new LocalOidcProvider(port, {
      ana: { email: ana, email_verified: true, name: 'Ana' },
      stranger: { email: 'stranger@example.com', email_verified: true },
      unverified: { email: ana.toUpperCase(), email_verified: false },
    });
    sys = await PagingSystem.start({
      oncall: { OIDC_ISSUER_URL: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_ALLOW_HTTP: 'true' },
    });
    await idp.start([`${sys.oncall.url}/api/v1/auth/oidc/callback`]);
  });

  afterAll(async () => {
    await sys?.stop();
    await idp?.stop();
  });

  it('signs a person in through the identity provider as the Klaxon user with its verified email; the token works everywhere', async () => {
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Ana', email: ana, role: 'responder' }));
    idp.signInAs('ana');
    const signedIn = await browse(`${sys.oncall.url}/api/v1/auth/oidc/start`);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ user: { id: user.id, email: ana, role: 'responder' }, expiresAt: expect.any(String) });
    expect((await sys.incidents.as(signedIn.body.token).get('/api/v1/incidents')).status).toBe(200);
    expect((await sys.oncall.as(signedIn.body.token).get(`/api/v1/users/${user.id}`)).status).toBe(200);
    expect(await expectOk(sys.oncall.get(`/api/v1/users/${user.id}/tokens`))).toEqual([expect.objectContaining({ kind: 'sign-in', revokedAt: null })]);

    // The code and state are used once: the same callback again is refused.
    const replay = await fetch(signedIn.url);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { message: string }).message).toBe('This sign-in link was used already or has expired: start again');
  });

  it('refuses someone the provider knows but Klaxon does not, and an email the provider has not verified', async () => {
    idp.signInAs('stranger');
    const stranger = await browse(`${sys.oncall.url}/api/v1/auth/oidc/start`);
    expect(stranger.status).toBe(403);
    expect(stranger.body.message).toBe('No Klaxon user has the email stranger@example.com: an admin creates people in Klaxon first');

    idp.signInAs('unverified');
    const unverified = await browse(`${sys.oncall.url}/api/v1/auth/oidc/start`);
    expect(unverified.status).toBe(403);
    expect(unverified.body.message).toBe('The identity provider gave no verified email to find your Klaxon user by');
  });
});
