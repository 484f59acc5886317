import { Api, FakeTwilio, TestWorld, createPagingWorld, eventually, expectOk, freePort, pdTrigger, testClockOf, waitUntilQuiet } from '#libs/testing';

/**
 * A GoAlert-style smoke test across the four service processes: an alert pages the first step by
 * SMS through the real twilio SDK (to a local Twilio stand-in), the responder answers from the
 * phone, incidents records who acknowledged, oncall stops escalating, and nobody else is paged.
 * oncall and notifier run test clocks that the test fast-forwards (escalation delay, SMS rate limit).
 */
describe('paging across the four services: SMS, replies, escalation', () => {
  const world = new TestWorld();
  // Twilio's clock keeps pace with notifier's test clock (see FakeTwilio).
  let notifierAheadMs = 0;
  const twilio = new FakeTwilio({ now: () => new Date(Date.now() + notifierAheadMs) });
  let ingest: Api;
  let oncall: Api;
  let notifier: Api;
  let incidents: Api;
  let notifierUrl = '';
  let routingKey = '';
  const dana = { number: '+14155550123', id: '' };
  let samEmail = '';

  const advanceOncall = (ms: number) => expectOk(oncall.post('/__test/clock/advance', { ms }));
  /** All four services have handled everything, timers due by each one's clock included (oncall's and notifier's run ahead). */
  const quiet = () =>
    waitUntilQuiet(world, {
      services: ['alert-ingest', 'incidents', { name: 'oncall', now: testClockOf(() => oncall) }, { name: 'notifier', now: testClockOf(() => notifier) }],
    });
  const pageSms = () => twilio.smsTo(dana.number).filter((s) => s.body.startsWith('Klaxon #'));
  const inboxFor = async (email: string) => (await notifier.get(`/api/v1/inbox?to=${encodeURIComponent(email)}`)).body as { subject: string }[];
  const reply = (body: string) => twilio.sms(`${notifierUrl}/api/v1/twilio/sms/inbound`, dana.number, body);
  const incidentByTitle = async (title: string) =>
    ((await incidents.get('/api/v1/incidents')).body as { id: string; title: string; status: string; number: number; acknowledgedBy: unknown }[]).find(
      (i) => i.title === title,
    );

  beforeAll(async () => {
    await twilio.start();
    const port = await freePort();
    notifierUrl = `http://127.0.0.1:${port}`;
    const [i, o, n, inc] = await Promise.all([
      world.spawn('alert-ingest'),
      world.spawn('oncall', { TEST_CLOCK: 'true' }),
      world.spawn('notifier', { PORT: String(port), PUBLIC_URL: notifierUrl, TEST_CLOCK: 'true', ...twilio.env() }),
      world.spawn('incidents'),
    ]);
    [ingest, oncall, notifier, incidents] = [i.api, o.api, n.api, inc.api];

    // Step 1 pages Dana by SMS; five minutes later step 2 pages Sam (default rules: email, here the capture inbox).
    const setup = await createPagingWorld(oncall, ingest, { name: 'Dana', email: 'dana@example.com', delayMinutes: 5 });
    dana.id = setup.user.id;
    routingKey = setup.routingKey;
    samEmail = 'sam@example.com';
    const sam = await expectOk(oncall.post('/api/v1/users', { name: 'Sam', email: samEmail }));
    await expectOk(
      oncall.put(`/api/v1/escalation-policies/${setup.policy.id}`, {
        name: setup.policy.name,
        steps: [
          { delayMinutes: 5, targets: [{ type: 'user', id: dana.id }] },
          { delayMinutes: 5, targets: [{ type: 'user', id: sam.id }] },
        ],
      }),
    );
    await eventually(async () => (await notifier.get(`/api/v1/users/${dana.id}/contact-methods`)).status === 200, {
      what: 'notifier knows Dana',
      timeoutMs: 30000,
    });
    const sms = await expectOk(notifier.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: dana.number }));
    const code = await eventually(
      async () =>
        twilio
          .smsTo(dana.number)
          .map((s) => /code is:? (\d{6})/.exec(s.body)?.[1])
          .find(Boolean),
      { what: 'the verification code' },
    );
    await expectOk(notifier.post(`/api/v1/users/${dana.id}/contact-methods/${sms.id}/verify`, { code }));
    await expectOk(notifier.put(`/api/v1/users/${dana.id}/notification-rules/high`, { rules: [{ contactMethodId: sms.id, delayMinutes: 0 }] }));
  });

  afterAll(async () => {
    await world.close();
    await twilio.stop();
  });

  it('pages by SMS; "1a" acknowledges the incident as Dana, escalation stops, Sam is never paged', async () => {
    expect((await ingest.as(null).post('/v2/enqueue', pdTrigger(routingKey, 'db1-disk', 'Disk full on db1'))).status).toBe(202);
    const sms = await eventually(async () => pageSms()[0], { what: 'the page SMS', timeoutMs: 30000 });
    const incident = (await incidentByTitle('Disk full on db1'))!;
    expect(sms.body).toBe(`Klaxon #${incident.number} Checkout API: Disk full on db1 Reply 1a to ack, 1c to resolve.`);

    const answer = await reply('1a');
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(`Acknowledged #${incident.number} (Disk full on db1).`);
    const acked = await eventually(
      async () => {
        const i = await incidentByTitle('Disk full on db1');
        return i?.status === 'acknowledged' ? i : undefined;
      },
      { what: 'the incident acknowledged', timeoutMs: 30000 },
    );
    expect(acked.acknowledgedBy).toEqual({ userId: dana.id, name: 'Dana', source: 'sms' });

    // Well past step 2's delay: nothing more goes out.
    await advanceOncall(10 * 60_000);
    await quiet();
    expect(await inboxFor(samEmail)).toEqual([]);
    expect(pageSms()).toHaveLength(1);
    const timeline = (await incidents.get(`/api/v1/incidents/${incident.id}/timeline?order=asc`)).body as { kind: string; details: { step?: number } }[];
    expect(timeline.filter((e) => e.kind === 'escalation.step-fired').map((e) => e.details.step)).toEqual([1]);

    // "1c" resolves it, and says so.
    const resolved = await reply('1c');
    expect(resolved.text).toContain(`Resolved #${incident.number}`);
    await eventually(async () => (await incidentByTitle('Disk full on db1'))?.status === 'resolved', { what: 'the incident resolved', timeoutMs: 30000 });
  });

  it('escalates to step 2 when nobody answers within the delay, and not before', async () => {
    // Dana's number may get one SMS a minute (the default rate limit): let that minute pass.
    await expectOk(notifier.post('/__test/clock/advance', { ms: 61_000 }));
    notifierAheadMs += 61_000;
    expect((await ingest.as(null).post('/v2/enqueue', pdTrigger(routingKey, 'api-5xx', 'API 5xx above 2%'))).status).toBe(202);
    // oncall's clock now runs ten minutes ahead of notifier's (the first test moved it): the page must not wait for it.
    await eventually(async () => pageSms().find((s) => s.body.includes('API 5xx above 2%')), { what: 'the SMS to Dana', timeoutMs: 30000 });
    await advanceOncall(4 * 60_000);
    await quiet();
    expect(await inboxFor(samEmail)).toEqual([]);
    await advanceOncall(60_000 + 1000);
    const page = await eventually(async () => (await inboxFor(samEmail)).find((m) => m.subject.includes('API 5xx above 2%')), {
      what: "Sam's page",
      timeoutMs: 30000,
    });
    expect(page.subject).toMatch(/^\[Klaxon\] #\d+ Checkout API: API 5xx above 2%$/);
  });
});
