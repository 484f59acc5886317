import { randomUUID } from 'node:crypto';
import { buildEvent, topicOf } from '#libs/contracts';
import { Api, FakeTwilio, TestWorld, eventually, produceRaw, queryDb } from '#libs/testing';
import { newNumber } from './harness.js';

/**
 * kill -9 of a real notifier process in the middle of a burst of 200 pages by SMS, right after
 * Twilio took a message and before notifier recorded it. After the restart, reconciling with
 * Twilio (listing the number's recent messages) finds what went out and sends only what did not:
 * every page reaches its user, and Twilio received exactly the messages notifier recorded.
 */
describe('notifier crash safety under a burst', () => {
  const world = new TestWorld();
  const twilio = new FakeTwilio();

  beforeAll(() => twilio.start());
  afterAll(async () => {
    await world.close();
    await twilio.stop();
  });

  it('a kill -9 during a burst of 200 SMS pages loses none and sends none twice', async () => {
    const env = { ...twilio.env(), RATE_LIMIT_SMS: 'off', SEND_DEADLINE_SECONDS: '5', USER_DAILY_PHONE_LIMIT: '1000' };
    const notifier = await world.spawn('notifier', env);
    const api = (): Api => notifier.api;
    // The world's topics exist (and have leaders) before anything is produced to them.
    await world.tap('notifications');

    // Four on-call users, each with a verified SMS number as their only rule.
    const users = await Promise.all(
      ['Ana', 'Ben', 'Cy', 'Di'].map(async (name) => {
        const id = randomUUID();
        const number = newNumber();
        await produce('user.upserted', id, { userId: id, name, email: `${name.toLowerCase()}@example.com`, timeZone: 'UTC', role: 'responder' });
        await eventually(async () => (await api().get(`/api/v1/users/${id}/contact-methods`)).status === 200, { what: `${name} known` });
        const cm = await api().post(`/api/v1/users/${id}/contact-methods`, { type: 'sms', value: number });
        const code = await eventually(async () => /code is (\d{6})/.exec(twilio.smsTo(number)[0]?.body ?? '')?.[1], { what: `${name}'s code` });
        expect((await api().post(`/api/v1/users/${id}/contact-methods/${cm.body.id}/verify`, { code })).status).toBe(200);
        expect((await api().put(`/api/v1/users/${id}/notification-rules/high`, { rules: [{ contactMethodId: cm.body.id, delayMinutes: 0 }] })).status).toBe(
          200,
        );
        return { id, name, number };
      }),
    );
    const verificationSids = new Set(twilio.messages.map((m) => m.sid));

    // Restart armed: the 5th message Twilio takes kills notifier before it records it. (Pages that
    // queue for one person go as one bundled SMS, so 200 pages for four people make far fewer than
    // 200 messages.)
    await notifier.stop('SIGTERM');
    await notifier.start({ CRASH_AT: 'notifier.after-provider-call:5' });
    const pages = Array.from({ length: 200 }, (_, i) => {
      const user = users[i % users.length]!;
      const incidentId = randomUUID();
      return buildEvent(
        'page.requested',
        incidentId,
        {
          pageId: `${incidentId}:0:0:0:${user.id}`,
          incidentId,
          incidentNumber: i + 1,
          serviceId: randomUUID(),
          serviceName: 'Checkout API',
          title: `Burst incident ${i + 1}`,
          urgency: 'high',
          userId: user.id,
          userName: user.name,
          userEmail: `${user.name.toLowerCase()}@example.com`,
          step: 0,
          loop: 0,
          requestedAt: new Date().toISOString(),
        },
        { producer: 'test', correlationId: randomUUID() },
      );
    });
    await produceRaw(
      world.infra.brokers,
      topicOf('page.requested', world.prefix),
      pages.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
    );
    expect(await notifier.waitExit()).toBe(null); // killed, not exited
    const beforeCrash = twilio.messages.filter((m) => !verificationSids.has(m.sid)).map((m) => m.sid);
    expect(beforeCrash.length).toBeGreaterThanOrEqual(5);

    await notifier.start({ CRASH_AT: '' });
    const db = world.databaseUrl('notifier');
    const rows = await eventually(
      async () => {
        const r = await queryDb<{ status: string; provider_message_id: string | null; destination: string }>(
          db,
          `SELECT status, provider_message_id, destination FROM notifications WHERE kind = 'page'`,
        );
        return r.length === 200 && r.every((n) => n.status === 'sent') ? r : undefined;
      },
      { what: 'all 200 pages sent after the restart', timeoutMs: 90000, intervalMs: 500 },
    );

    // Exactly the messages notifier recorded reached Twilio: none lost, none twice.
    const pageSms = twilio.messages.filter((m) => !verificationSids.has(m.sid));
    const recorded = new Set(rows.map((r) => r.provider_message_id));
    expect(pageSms.map((m) => m.sid).sort()).toEqual([...recorded].sort());
    // Including the message Twilio took just before the kill: found by reconciling, not sent again.
    for (const sid of beforeCrash) expect(recorded.has(sid)).toBe(true);
    // Each SMS went to the number of the users whose pages it carried, and no body was sent twice.
    for (const r of rows) expect(pageSms.find((m) => m.sid === r.provider_message_id)!.to).toBe(r.destination);
    expect(new Set(pageSms.map((m) => `${m.to}|${m.body}`)).size).toBe(pageSms.length);
  });

  async function produce(type: 'user.upserted', key: string, data: Parameters<typeof buildEvent<'user.upserted'>>[2]): Promise<void> {
    const e = buildEvent(type, key, data, { producer: 'test', correlationId: randomUUID() });
    await produceRaw(world.infra.brokers, topicOf(type, world.prefix), [{ key, value: JSON.stringify(e) }]);
  }
});
