import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expectOk, PagingSystem, REPO_ROOT, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, TEST_SIGNING_KEY } from '#libs/testing';

/**
 * The logs of a whole paging run, at debug level, never hold what could act as someone or reach
 * them: tokens, integration keys, passwords, verification codes, the signing key, phone numbers,
 * email addresses. Failing database writes are logged without their parameters.
 */
describe('scenarios: logs hold no secrets or contact details', () => {
  let sys: PagingSystem;
  const debug = { LOG_LEVEL: 'debug' };

  beforeAll(async () => {
    sys = await PagingSystem.start({ 'alert-ingest': debug, oncall: debug, notifier: debug, incidents: debug });
  });

  afterAll(async () => {
    await sys?.stop();
  });

  it('a page by SMS and email, a reply, tokens, a sign-in and failed writes leave none of them in any log line', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const password = `pw-${randomUUID()}`;
    expect((await sys.oncall.put(`/api/v1/users/${dana.id}/password`, { password })).status).toBe(204);
    const signedIn = await expectOk(sys.oncall.as(null).post('/api/v1/auth/sign-in', { email: dana.email, password }));
    const issued = await expectOk(sys.oncall.post(`/api/v1/users/${dana.id}/tokens`, { name: 'ci' }));
    // Writes that fail in the database with contact details as parameters (a duplicate, an unknown user).
    expect((await sys.notifier.as(signedIn.token).post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: dana.number })).status).toBe(409);
    expect((await sys.oncall.post('/api/v1/users', { name: 'Dup', email: dana.email })).status).toBe(409);
    expect((await sys.oncall.as(null).post('/api/v1/auth/sign-in', { email: dana.email, password: 'wrong password!!' })).status).toBe(401);

    const svc = await sys.service('Payments', { steps: [{ delayMinutes: 5, targets: [dana] }] });
    await svc.trigger('5xx', 'Payments 5xx above 2%');
    const sms = await dana.expectSms(/Payments 5xx above 2%/);
    await sms.reply('1a', /Acknowledged/);
    await svc.incident('Payments 5xx above 2%', 'acknowledged');
    await svc.resolve('5xx');
    await svc.incident('Payments 5xx above 2%', 'resolved');
    await sys.settle();

    const dir = path.join(REPO_ROOT, '.klaxon/test-logs');
    const files = fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => path.basename(f).startsWith(`${sys.world.id}-`))
      .map((f) => path.join(dir, f));
    expect(files).toHaveLength(4);
    const logs = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(logs.split('\n').length).toBeGreaterThan(50); // debug lines were written
    const secrets: Record<string, string> = {
      'the bootstrap admin token': TEST_ADMIN_TOKEN,
      'an API token': issued.token,
      'a sign-in token': signedIn.token,
      'the password': password,
      'the integration key': svc.routingKey,
      AUTH_SECRET: TEST_AUTH_SECRET,
      'the signing key': TEST_SIGNING_KEY.d,
      "Dana's phone number": dana.number!,
      "Dana's phone number without +": dana.number!.slice(1),
      "Dana's email": dana.email,
    };
    const found = Object.entries(secrets)
      .filter(([, value]) => logs.includes(value))
      .map(
        ([what, value]) =>
          `${what}: ${logs
            .split('\n')
            .find((l) => l.includes(value))!
            .slice(0, 300)}`,
      );
    expect(found).toEqual([]);
  });
});
