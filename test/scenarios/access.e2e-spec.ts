import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { eventually, expectOk, PagingSystem, TEST_AUTH_SECRET, TEST_SIGNING_KEY, type Api } from '#libs/testing';

/**
 * API tokens can be taken back: a revoked token, a deleted user's token, and a demoted user's
 * admin rights stop working in every service (each checks its own copy of the directory, with no
 * call to oncall on the request's path); tokens must expire, and are listed without their secret.
 */
describe('scenarios: access and trust', () => {
  let sys: PagingSystem;
  /** A read in each service's API, as the token's holder. */
  const everywhere = (token: string, userId: string): Promise<number[]> =>
    Promise.all(
      (
        [
          [sys.oncall, '/api/v1/users'],
          [sys.ingest, '/api/v1/alerts'],
          [sys.notifier, `/api/v1/users/${userId}/contact-methods`],
          [sys.incidents, '/api/v1/incidents'],
        ] as [Api, string][]
      ).map(async ([api, path]) => (await api.as(token).get(path)).status),
    );

  beforeAll(async () => {
    sys = await PagingSystem.start();
  });

  afterAll(async () => {
    await sys?.stop();
  });

  async function admin(name: string): Promise<{ id: string; token: string; tokenId: string }> {
    const user = await expectOk(
      sys.oncall.post('/api/v1/users', { name, email: `${name.toLowerCase()}-${randomUUID().slice(0, 6)}@example.com`, role: 'admin' }),
    );
    const issued = await expectOk(sys.oncall.post(`/api/v1/users/${user.id}/tokens`, { name: 'Terraform', expiresInDays: 30 }));
    return { id: user.id, token: issued.token, tokenId: issued.tokenId };
  }

  it('a revoked token is refused by all four services; the list shows it revoked and never the token', async () => {
    const ana = await admin('Ana');
    expect(await everywhere(ana.token, ana.id)).toEqual([200, 200, 200, 200]);
    expect((await sys.oncall.delete(`/api/v1/users/${ana.id}/tokens/${ana.tokenId}`)).status).toBe(204);
    await eventually(async () => (await everywhere(ana.token, ana.id)).every((s) => s === 401), {
      what: 'the token refused everywhere',
    });
    const refused = await sys.incidents.as(ana.token).get('/api/v1/incidents');
    expect(refused.body.message).toBe('Bearer token rejected: token was revoked');
    const list = await expectOk(sys.oncall.get(`/api/v1/users/${ana.id}/tokens`));
    expect(list).toEqual([expect.objectContaining({ id: ana.tokenId, name: 'Terraform', role: 'admin', revokedAt: expect.any(String) })]);
    expect(JSON.stringify(list)).not.toContain(ana.token);
    expect((await sys.oncall.delete(`/api/v1/users/${ana.id}/tokens/${ana.tokenId}`)).status).toBe(400);
  });

  it('a read-only token reads in every service and changes nothing anywhere', async () => {
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Reader', email: `reader-${randomUUID().slice(0, 6)}@example.com`, role: 'admin' }));
    const { token, tokenId } = await expectOk(sys.oncall.post(`/api/v1/users/${user.id}/tokens`, { name: 'Dashboard', readOnly: true }));
    expect(await everywhere(token, user.id)).toEqual([200, 200, 200, 200]);
    const svc = await sys.service('Read-only check');
    const writes = await Promise.all([
      sys.oncall.as(token).post('/api/v1/users', { name: 'Nope', email: 'nope@example.com' }),
      sys.ingest.as(token).post('/api/v1/maintenance-windows', {
        serviceIds: [svc.id],
        startsAt: sys.now().toISOString(),
        endsAt: new Date(sys.now().getTime() + 60_000).toISOString(),
      }),
      sys.incidents.as(token).post('/api/v1/problems', { title: 'Nope' }),
      sys.notifier.as(token).post(`/api/v1/users/${user.id}/contact-methods`, { type: 'email', value: 'nope@example.com' }),
    ]);
    expect(writes.map((w) => [w.status, w.body.message])).toEqual(writes.map(() => [403, 'This token is read-only: it cannot change anything']));
    expect(await expectOk(sys.oncall.get(`/api/v1/users/${user.id}/tokens`))).toEqual([expect.objectContaining({ id: tokenId, readOnly: true })]);
  });

  it("a deleted admin's token stops working everywhere, and cannot issue new tokens", async () => {
    const ben = await admin('Ben');
    expect(await everywhere(ben.token, ben.id)).toEqual([200, 200, 200, 200]);
    expect((await sys.oncall.delete(`/api/v1/users/${ben.id}`)).status).toBe(204);
    await eventually(async () => (await everywhere(ben.token, ben.id)).every((s) => s === 401), {
      what: "the deleted user's token refused everywhere",
    });
    const other = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Cy', email: `cy-${randomUUID().slice(0, 6)}@example.com` }));
    const attempt = await sys.oncall.as(ben.token).post(`/api/v1/users/${other.id}/tokens`, {});
    expect(attempt.status).toBe(401);
    expect(attempt.body.message).toBe('Bearer token rejected: its user was deleted');
  });

  it("a demoted admin's token acts with the new role at once", async () => {
    const dee = await admin('Dee');
    const svc = await sys.service('Demotion check');
    const window = { serviceIds: [svc.id], startsAt: sys.now().toISOString(), endsAt: new Date(sys.now().getTime() + 60_000).toISOString() };
    expect(
      (await sys.ingest.as(dee.token).post('/api/v1/integrations', { serviceId: svc.id, type: 'heartbeat', name: 'cron', config: { intervalSeconds: 600 } }))
        .status,
    ).toBe(201);
    await expectOk(sys.oncall.patch(`/api/v1/users/${dee.id}`, { role: 'viewer' }));
    await eventually(async () => (await sys.ingest.as(dee.token).post('/api/v1/maintenance-windows', window)).status === 403, {
      what: 'the demoted token refused a responder action',
    });
    expect((await sys.incidents.as(dee.token).get('/api/v1/incidents')).status).toBe(200);
    expect((await sys.oncall.as(dee.token).post('/api/v1/users', { name: 'Eve', email: 'eve@example.com' })).status).toBe(403);
  });

  it('every change is recorded in the audit log of the service it was made in: who, what, on what; secrets left out', async () => {
    const fay = await admin('Fay');
    const svc = await sys.service('Audited');
    const integration = await expectOk(
      sys.ingest.as(fay.token).post('/api/v1/integrations', { serviceId: svc.id, type: 'heartbeat', name: 'cron', config: { intervalSeconds: 600 } }),
    );
    const window = await expectOk(
      sys.ingest.as(fay.token).post('/api/v1/maintenance-windows', {
        serviceIds: [svc.id],
        startsAt: sys.now().toISOString(),
        endsAt: new Date(sys.now().getTime() + 60_000).toISOString(),
        description: 'kernel patch',
      }),
    );
    const log = await expectOk(sys.ingest.get(`/api/v1/audit?targetId=${window.id}`));
    expect(log).toEqual([
      expect.objectContaining({
        actorUserId: fay.id,
        role: 'admin',
        tokenId: fay.tokenId,
        action: 'POST /api/v1/maintenance-windows',
        targetId: window.id,
        status: 201,
        details: expect.objectContaining({ body: expect.objectContaining({ description: 'kernel patch' }) }),
      }),
    ]);
    expect((await expectOk(sys.ingest.get(`/api/v1/audit?actorUserId=${fay.id}`))).map((e: { action: string }) => e.action)).toEqual([
      'POST /api/v1/maintenance-windows',
      'POST /api/v1/integrations',
    ]);
    expect(integration.key).toBeDefined();
    // In oncall: the token issued for Fay, by the bootstrap admin; the token itself is never written down.
    const issued = await expectOk(sys.oncall.get(`/api/v1/audit?targetId=${fay.id}`));
    expect(issued[0]).toMatchObject({ action: 'POST /api/v1/users/:id/tokens', actorUserId: null, actorName: 'Administrator (bootstrap token)' });
    expect(JSON.stringify(issued)).not.toContain(fay.token);
    // Only admins read it.
    const viewer = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Gus', email: `gus-${randomUUID().slice(0, 6)}@example.com`, role: 'viewer' }));
    const viewerToken = (await expectOk(sys.oncall.post(`/api/v1/users/${viewer.id}/tokens`, {}))).token;
    expect((await sys.ingest.as(viewerToken).get('/api/v1/audit')).status).toBe(403);
  });

  it('people sign in with a password: the token works everywhere until they sign out; failed attempts are limited', async () => {
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Ivy', email: `ivy-${randomUUID().slice(0, 6)}@example.com` }));
    const signIn = (email: string, password: string) => sys.oncall.as(null).post('/api/v1/auth/sign-in', { email, password });
    // No password yet: nobody can sign in as Ivy.
    expect((await signIn(user.email, 'correct horse battery staple')).status).toBe(401);
    expect((await sys.oncall.put(`/api/v1/users/${user.id}/password`, { password: 'short' })).body.message).toContain(
      'password: must be at least 12 characters',
    );
    expect((await sys.oncall.put(`/api/v1/users/${user.id}/password`, { password: 'correct horse battery staple' })).status).toBe(204);

    const ok = await signIn(user.email.toUpperCase(), 'correct horse battery staple');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ user: { id: user.id, role: 'responder' }, expiresAt: expect.any(String) });
    expect(await everywhere(ok.body.token, user.id)).toEqual([200, 200, 200, 200]);
    expect(await expectOk(sys.oncall.get(`/api/v1/users/${user.id}/tokens`))).toEqual([
      expect.objectContaining({ id: ok.body.tokenId, kind: 'sign-in', name: 'Sign-in', revokedAt: null }),
    ]);

    // Ivy changes her own password only with the current one, and nobody else's.
    const ivy = sys.oncall.as(ok.body.token);
    expect((await ivy.put(`/api/v1/users/${user.id}/password`, { password: 'another long passphrase' })).status).toBe(400);
    expect(
      (await ivy.put(`/api/v1/users/${user.id}/password`, { password: 'another long passphrase', currentPassword: 'correct horse battery staple' })).status,
    ).toBe(204);
    const other = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Jo', email: `jo-${randomUUID().slice(0, 6)}@example.com` }));
    expect((await ivy.put(`/api/v1/users/${other.id}/password`, { password: 'take over jo account' })).status).toBe(403);
    // The password never appears in the audit log.
    expect(JSON.stringify(await expectOk(sys.oncall.get(`/api/v1/audit?targetId=${user.id}`)))).not.toContain('another long passphrase');

    // Signing out ends the sign-in in every service.
    expect((await ivy.post('/api/v1/auth/sign-out')).status).toBe(204);
    await eventually(async () => (await everywhere(ok.body.token, user.id)).every((s) => s === 401), { what: 'the signed-out token refused everywhere' });

    // Five failed sign-ins for one email (the one before the password was set, and four more): the
    // next attempt is refused, even with the right password.
    for (let i = 0; i < 4; i++) {
      const wrong = await signIn(user.email, `wrong password ${i}!!`);
      expect(wrong.status).toBe(401);
      expect(wrong.body.message).toBe('That email and password do not match an account with a password set');
    }
    const limited = await signIn(user.email, 'another long passphrase');
    expect(limited.status).toBe(429);
    expect(limited.body.message).toBe('Too many failed sign-ins for this email; try again in 15 minutes');
    await sys.advanceMinutes(16);
    expect((await signIn(user.email, 'another long passphrase')).status).toBe(200);
  });

  it('a token without an expiry is refused, and none is issued for longer than a year', async () => {
    // Signed with oncall's own key, but without an expiry.
    const key = await importJWK({ ...TEST_SIGNING_KEY, alg: 'EdDSA' }, 'EdDSA');
    const forever = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: TEST_SIGNING_KEY.kid })
      .setIssuer('klaxon')
      .setAudience('klaxon-api')
      .setSubject(randomUUID())
      .setJti(randomUUID())
      .setIssuedAt()
      .sign(key);
    const res = await sys.incidents.as(forever).get('/api/v1/incidents');
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Bearer token rejected: token is not valid');
    expect((await sys.oncall.post(`/api/v1/users/${randomUUID()}/tokens`, { expiresInDays: 3650 })).status).toBe(400);

    // Nothing but oncall's signing key makes a token: one signed with the shared AUTH_SECRET (as
    // every service could before) is refused by every service.
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Kim', email: `kim-${randomUUID().slice(0, 6)}@example.com`, role: 'admin' }));
    const shared = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer('klaxon')
      .setAudience('klaxon-api')
      .setSubject(user.id)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
    expect(await everywhere(shared, user.id)).toEqual([401, 401, 401, 401]);
  });

  it('text that cannot be stored (NUL, a lone surrogate) gets a 400 naming the field on every management route, never a 500', async () => {
    const svc = await sys.service('Hostile input');
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name: 'Hal', email: `hal-${randomUUID().slice(0, 6)}@example.com` }));
    await svc.trigger('hostile', 'Hostile input test');
    const incident = await svc.incident('Hostile input test');
    const cases: [Api, string, string, unknown, string][] = [
      [sys.oncall, 'POST', '/api/v1/users', { name: 'a\u0000b', email: 'nul@example.com' }, 'name: contains a NUL character'],
      [sys.oncall, 'POST', '/api/v1/teams', { name: '\ud800team' }, 'name: contains an unpaired UTF-16 surrogate'],
      [
        sys.oncall,
        'POST',
        '/api/v1/schedules',
        { name: 'S', timeZone: 'UTC', layers: [{ name: 'x\u0000', participants: [user.id], turn: { unit: 'days', count: 1 }, startDate: '2026-01-01' }] },
        'layers.0.name: contains a NUL character',
      ],
      [
        sys.ingest,
        'POST',
        '/api/v1/maintenance-windows',
        { serviceIds: [svc.id], startsAt: sys.now().toISOString(), endsAt: new Date(sys.now().getTime() + 1000).toISOString(), description: '\u0000' },
        'description: contains a NUL character',
      ],
      [sys.notifier, 'POST', `/api/v1/users/${user.id}/contact-methods`, { type: 'email', value: 'x\u0000@example.com' }, 'value: contains a NUL character'],
      [sys.incidents, 'POST', `/api/v1/incidents/${incident.id}/notes`, { text: 'lone \udc00' }, 'text: contains an unpaired UTF-16 surrogate'],
      [sys.incidents, 'POST', '/api/v1/problems', { title: 'p\u0000' }, 'title: contains a NUL character'],
    ];
    for (const [api, method, path, body, message] of cases) {
      const res = await api.request(method, path, body);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.body.message).toContain(message);
    }
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/resolve`));
  });
});
