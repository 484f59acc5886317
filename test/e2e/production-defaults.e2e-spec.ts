import { randomBytes, randomUUID } from 'node:crypto';
import { TokenService } from '#libs/auth';
import { Api, TEST_PUBLIC_KEYS, TestWorld, eventually, newSigningKeys, runServiceOnce } from '#libs/testing';

/**
 * Safe by default: with NODE_ENV=production nothing runs on a placeholder or published secret, and
 * the capture inbox (which shows live acknowledge links and answers as any phone) is off unless an
 * operator turns it on for admins. Driven through the real service processes.
 */
const random = (): string => randomBytes(36).toString('base64');

describe('production defaults', () => {
  const world = new TestWorld();
  const secret = random();
  const adminToken = random();
  const keys = newSigningKeys('production-test');
  const tokens = new TokenService({ publicKeys: keys.publicKeys.keys, signingKey: keys.signingKey });
  const production = (service: string, extra: Record<string, string> = {}) => {
    const {
      TEST_CLOCK: _clock,
      AUTH_SIGNING_KEY: _published,
      ...env
    } = world.env(service, {
      NODE_ENV: 'production',
      AUTH_SECRET: secret,
      AUTH_PUBLIC_KEYS: JSON.stringify(keys.publicKeys),
      BOOTSTRAP_ADMIN_TOKEN: adminToken,
      ...extra,
    });
    return service === 'oncall' ? { ...env, AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey) } : env;
  };
  afterAll(() => world.close());
  /** A user as oncall announces them (the services check tokens against their copy of the directory). */
  const announceUser = async (role: 'responder' | 'admin'): Promise<string> => {
    const userId = randomUUID();
    await world.publish('user.upserted', userId, { userId, name: 'Rae', email: `rae-${userId.slice(0, 6)}@example.com`, timeZone: 'UTC', role });
    return userId;
  };

  it.each(['alert-ingest', 'oncall', 'notifier', 'incidents'] as const)(
    '%s refuses to start on a placeholder secret, in one line that never repeats it',
    (name) => {
      for (const [variable, value] of [
        ['AUTH_SECRET', 'change-me-change-me-change-me-change-me'],
        ['BOOTSTRAP_ADMIN_TOKEN', 'change-me-admin-token-0123456789'],
      ] as const) {
        const res = runServiceOnce(name, production(name, { [variable]: value }));
        expect(res.status).toBe(1);
        expect(res.stderr.trim().split('\n')).toEqual([
          `${name}: configuration error: ${variable} is a placeholder or a well-known default, refused with NODE_ENV=production: generate one (openssl rand -base64 48) and keep it in a secret store`,
        ]);
        expect(res.stderr).not.toContain(value);
      }
    },
  );

  it.each(['alert-ingest', 'oncall', 'notifier', 'incidents'] as const)('%s refuses the token keys published with Klaxon in production', (name) => {
    const res = runServiceOnce(name, production(name, { AUTH_PUBLIC_KEYS: JSON.stringify(TEST_PUBLIC_KEYS) }));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('AUTH_PUBLIC_KEYS holds a key published with Klaxon (kid "test-2026-12"), refused with NODE_ENV=production');
  });

  it.each(['alert-ingest', 'notifier', 'incidents'] as const)('%s cannot sign tokens: it refuses to start with the signing key', (name) => {
    const res = runServiceOnce(name, { ...production(name), AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey) });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`AUTH_SIGNING_KEY is set, but only oncall signs tokens: give ${name} AUTH_PUBLIC_KEYS only`);
    expect(res.stderr).not.toContain(keys.signingKey.d);
  });

  it('oncall refuses single sign-on over plain http in production, and a provider without client credentials anywhere', () => {
    const sso = { OIDC_ISSUER_URL: 'http://idp.example.com', OIDC_CLIENT_ID: 'klaxon', OIDC_CLIENT_SECRET: random() };
    const http = runServiceOnce('oncall', production('oncall', { ...sso, OIDC_ALLOW_HTTP: 'true' }));
    expect(http.status).toBe(1);
    expect(http.stderr).toContain('OIDC_ALLOW_HTTP is invalid: is refused with NODE_ENV=production: the identity provider must be https');
    const { OIDC_CLIENT_SECRET: _secret, ...noSecret } = sso;
    const incomplete = runServiceOnce('oncall', production('oncall', noSecret));
    expect(incomplete.status).toBe(1);
    expect(incomplete.stderr).toContain('OIDC_CLIENT_SECRET is missing: is needed with OIDC_ISSUER_URL');
  });

  it('notifier refuses a public capture inbox in production', () => {
    const res = runServiceOnce('notifier', production('notifier', { CAPTURE_INBOX: 'public' }));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('CAPTURE_INBOX is invalid: must be off or admin with NODE_ENV=production');
  });

  it('the capture inbox is off by default in production: its pages and its phone stand-ins answer 404', async () => {
    const notifier = await world.spawn('notifier', production('notifier'));
    const anonymous = new Api(notifier.url, null);
    const admin = new Api(notifier.url, adminToken);
    for (const api of [anonymous, admin]) {
      expect((await api.get('/inbox')).status).toBe(404);
      expect((await api.get('/api/v1/inbox')).status).toBe(404);
      expect((await api.post('/api/v1/inbox/sms-replies', { from: '+14155550123', body: '1a' })).status).toBe(404);
      expect((await api.post(`/api/v1/inbox/calls/${randomUUID()}/keys`, { digits: '4' })).status).toBe(404);
    }
    await notifier.stop('SIGTERM');
  });

  it('CAPTURE_INBOX=admin: only an admin token reads it or answers as a phone', async () => {
    const notifier = await world.spawn('notifier', production('notifier', { CAPTURE_INBOX: 'admin' }));
    const responder = await tokens.issue({ userId: await announceUser('responder'), role: 'responder', tokenId: randomUUID(), expiresInSeconds: 600 });
    const other = newSigningKeys('production-test');
    const forged = await new TokenService({ publicKeys: other.publicKeys.keys, signingKey: other.signingKey }).issue({
      userId: randomUUID(),
      role: 'admin',
      tokenId: randomUUID(),
      expiresInSeconds: 600,
    });
    expect((await new Api(notifier.url, null).get('/api/v1/inbox')).status).toBe(401);
    expect((await new Api(notifier.url, forged).get('/api/v1/inbox')).status).toBe(401);
    // The responder is known once notifier has read oncall's directory event (a fresh process may take a moment).
    await eventually(async () => (await new Api(notifier.url, responder).get('/api/v1/inbox')).status === 403, { what: 'the responder refused, not unknown' });
    expect((await new Api(notifier.url, responder).post('/api/v1/inbox/sms-replies', { from: '+14155550123', body: '1a' })).status).toBe(403);
    const read = await new Api(notifier.url, adminToken).get('/api/v1/inbox');
    expect(read.status).toBe(200);
    expect(read.body).toEqual([]);
    await notifier.stop('SIGTERM');
  });

  it('/metrics needs METRICS_TOKEN or an admin token in production, and labels requests by route template only', async () => {
    const scrape = random();
    const ingest = await world.spawn('alert-ingest', production('alert-ingest', { METRICS_TOKEN: scrape }));
    expect((await new Api(ingest.url, null).get('/metrics')).status).toBe(401);
    const responder = await tokens.issue({
      userId: await announceUser('responder'),
      role: 'responder',
      tokenId: randomUUID(),
      expiresInSeconds: 600,
    });
    await eventually(async () => (await new Api(ingest.url, responder).get('/metrics')).status === 403, { what: 'the responder refused, not unknown' });
    expect((await new Api(ingest.url, adminToken).get('/metrics')).status).toBe(200);

    // Made-up paths and keys a sender puts in URLs never become label values.
    const key = `leaked-key-${randomUUID()}`;
    const sender = new Api(ingest.url, null);
    expect((await sender.post(`/integrations/alertmanager/${key}`, '{not json', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await sender.get(`/no/such/${key}`)).status).toBe(404);
    expect((await sender.post(`/heartbeats/${key}`)).status).toBe(403);
    const metrics = await new Api(ingest.url, scrape).get<string>('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('klaxon_http_requests_total');
    expect(metrics.body).not.toContain(key);
    await ingest.stop('SIGTERM');
  });
});
