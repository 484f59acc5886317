import { randomUUID } from 'node:crypto';
import { gatherAction, queryDb, spoken, testTokens } from '#libs/testing';
import { NotifierHarness, newNumber, soon } from './harness.js';

/**
 * Paging by push, SMS and voice through the real twilio and firebase-admin SDKs (talking to local
 * fakes), and acknowledging from the phone: SMS replies, keypresses, failover, retries, STOP.
 * One notifier for the file; each test has its own user and numbers.
 */
describe('notifier: push, SMS and voice, and answering from the phone', () => {
  const h = new NotifierHarness();

  beforeAll(() => h.start({ VOICE_RETRY_SECONDS: '60', INCIDENT_URL_TEMPLATE: 'https://console.example.com/incidents/{number}' }));
  afterAll(() => h.stop());

  const db = () => h.world.databaseUrl('notifier');
  const pending = async (to: string) =>
    (
      await queryDb<{ n: number }>(db(), `SELECT count(*)::int AS n FROM notifications WHERE destination = $1 AND status = 'queued' AND kind = 'page'`, [to])
    )[0]!.n;
  const attempts = async (to: string) =>
    (await queryDb<{ n: number }>(db(), `SELECT coalesce(max(attempts), 0)::int AS n FROM notifications WHERE destination = $1 AND kind = 'page'`, [to]))[0]!.n;

  it('refuses a phone number that is not one, and verifies a real one with the code it is sent', async () => {
    const dana = await h.user('Dana');
    const bad = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: '0151 1234' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      '"0151 1234" is not a valid phone number: it has no country code: write it as +<country code><number>, or pass "country" (e.g. "US")',
    );

    const number = newNumber();
    const national = `(${number.slice(2, 5)}) ${number.slice(5, 8)}-${number.slice(8)}`;
    const created = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: national, country: 'US' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'sms', value: number, verified: false });
    const sms = await h.sms(number, 'verification code');
    const code = /code is (\d{6})/.exec(sms.body)![1]!;

    // Not usable in a rule until verified.
    const early = await h.api.put(`/api/v1/users/${dana.id}/notification-rules/high`, { rules: [{ contactMethodId: created.body.id, delayMinutes: 0 }] });
    expect(early.status).toBe(400);
    expect(early.body.message).toContain('is not verified yet');

    const wrong = await h.api.post(`/api/v1/users/${dana.id}/contact-methods/${created.body.id}/verify`, { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toBe('that code is not right; 4 attempts left');
    const right = await h.api.post(`/api/v1/users/${dana.id}/contact-methods/${created.body.id}/verify`, { code });
    expect(right.status).toBe(200);
    expect(right.body.verified).toBe(true);

    const duplicate = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: number });
    expect(duplicate.status).toBe(409);

    // Another responder can neither see nor change Dana's contact methods; Dana can.
    const tokens = testTokens();
    const sam = await tokens.issue({ userId: (await h.user('Sam')).id, role: 'responder', tokenId: randomUUID(), expiresInSeconds: 600 });
    expect((await h.api.as(sam).get(`/api/v1/users/${dana.id}/contact-methods`)).status).toBe(403);
    expect((await h.api.as(sam).post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'email', value: 'sam@example.com' })).status).toBe(403);
    const own = await tokens.issue({ userId: dana.id, role: 'responder', tokenId: randomUUID(), expiresInSeconds: 600 });
    expect((await h.api.as(own).get(`/api/v1/users/${dana.id}/contact-methods`)).body).toEqual([expect.objectContaining({ value: number, verified: true })]);
  });

  it('sends a number at most 10 codes a day, however often it is deleted and added again, and by whom', async () => {
    const eve = await h.user('Eve');
    const number = newNumber();
    for (let i = 0; i < 10; i++) {
      const added = await h.api.post(`/api/v1/users/${eve.id}/contact-methods`, { type: 'sms', value: number });
      expect(added.status).toBe(201);
      expect((await h.api.delete(`/api/v1/users/${eve.id}/contact-methods/${added.body.id}`)).status).toBe(204);
    }
    const refused = await h.api.post(`/api/v1/users/${eve.id}/contact-methods`, { type: 'sms', value: number });
    expect(refused.status).toBe(429);
    expect(refused.body.message).toBe(`10 codes were sent to ${number} in the last 24 hours; try again tomorrow`);
    expect((await h.api.get(`/api/v1/users/${eve.id}/contact-methods`)).body).toEqual([]);
    const fay = await h.user('Fay');
    expect((await h.api.post(`/api/v1/users/${fay.id}/contact-methods`, { type: 'voice', value: number })).status).toBe(429);
    // Another number still gets its code.
    expect((await h.api.post(`/api/v1/users/${fay.id}/contact-methods`, { type: 'sms', value: newNumber() })).status).toBe(201);
  });

  it('pages by push at 0, SMS at 1 minute and voice at 3; an SMS reply acknowledges and the call never comes', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const pushId = await h.push(dana.id, 'fcm-token-dana-pixel-0123456789');
    const smsId = await h.phone(dana.id, 'sms', number);
    const voiceId = await h.phone(dana.id, 'voice', number);
    await h.rules(dana.id, 'high', [
      { contactMethodId: pushId, delayMinutes: 0 },
      { contactMethodId: smsId, delayMinutes: 1 },
      { contactMethodId: voiceId, delayMinutes: 3 },
    ]);

    const incident = await h.page(dana, { title: 'Checkout latency above 2 s' });
    const push = await soon(async () => h.fcm.to('fcm-token-dana-pixel-0123456789')[0], { what: 'the push' });
    expect(push.message.notification).toEqual({ title: `#${incident.number} Checkout API`, body: 'Checkout latency above 2 s' });
    expect(push.message.android?.priority).toBe('high');
    expect(push.message.apns?.headers?.['apns-priority']).toBe('10');
    expect(push.message.apns?.payload?.aps?.['interruption-level']).toBe('time-sensitive');
    expect(push.message.data).toMatchObject({ incidentId: incident.incidentId, incidentNumber: String(incident.number), urgency: 'high' });
    expect(push.message.data?.acknowledgeUrl).toMatch(new RegExp(`^${h.url}/l/`));
    expect(push.message.data?.acknowledgeToken).toBeTruthy();

    await h.quiet();
    expect(h.pageSms(number)).toHaveLength(0);
    h.advance(60_000);
    const sms = await h.sms(number, `Klaxon #${incident.number}`);
    expect(sms.body).toBe(`Klaxon #${incident.number} Checkout API: Checkout latency above 2 s Reply 1a to ack, 1c to resolve.`);
    expect(sms.from).toBe(h.twilio.from);

    const reply = await h.twilio.sms(h.inboundSmsUrl, number, '1a');
    expect(reply.status).toBe(200);
    expect(reply.text).toContain(`<Message>Acknowledged #${incident.number} (Checkout latency above 2 s).</Message>`);
    const action = await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId)[0], { what: 'responder.action' });
    expect(action).toMatchObject({ action: 'acknowledge', userId: dana.id, source: 'sms' });

    h.advance(3 * 60_000);
    await h.quiet();
    expect(h.twilio.callsTo(number).filter((c) => !/verification/.test(c.twiml))).toHaveLength(0);
    await soon(
      async () =>
        h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'voice' && d.status === 'cancelled').length === 1,
      {
        what: 'the call cancelled',
      },
    );

    // A second reply: already done, and by whom.
    const again = await h.twilio.sms(h.inboundSmsUrl, number, 'ack');
    expect(again.text).toContain(`#${incident.number} was already acknowledged by Dana.`);
  });

  it('answers a reply about an incident someone else acknowledged with their name', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    const incident = await h.page(dana);
    await h.sms(number, `Klaxon #${incident.number}`);
    await h.acknowledged(incident, { userId: null, name: 'Sam' });
    await soon(async () => (await queryDb(db(), `SELECT 1 FROM incidents WHERE id = $1 AND status = 'acknowledged'`, [incident.incidentId])).length === 1, {
      what: 'notifier to hear of the acknowledgement',
    });
    const reply = await h.twilio.sms(h.inboundSmsUrl, number, 'ack 1');
    expect(reply.text).toContain(`<Message>#${incident.number} was already acknowledged by Sam.</Message>`);
    await h.quiet();
    expect(h.events('responder.action', (d) => d.incidentId === incident.incidentId)).toHaveLength(0);
  });

  it('tells people a page reached when someone else acknowledges (status updates), without holding back their next page', async () => {
    const dana = await h.user('Dana');
    const sam = await h.user('Sam');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    const patched = await h.api.patch(`/api/v1/users/${dana.id}/contact-methods/${smsId}`, { statusUpdates: true });
    expect(patched.body).toMatchObject({ statusUpdates: true });
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    const first = await h.page(dana, { title: 'Shared outage' });
    await h.sms(number, `Klaxon #${first.number}`);
    h.advance(60_000);

    await h.acknowledged(first, { userId: sam.id, name: null });
    const update = await h.sms(number, `acknowledged by`);
    expect(update.body).toBe(`Klaxon: #${first.number} acknowledged by Sam.`);
    // Updates count apart from pages: the next page goes at once.
    const second = await h.page(dana, { title: 'Next outage' });
    await h.sms(number, `Klaxon #${second.number}`);

    const voice = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'voice', value: newNumber(), statusUpdates: true });
    expect(voice.status).toBe(400);
    expect(voice.body.message).toBe('status updates go by SMS, push or email, not by phone call');
  });

  it('refuses SMS replies with a forged or missing signature, and acts on none of them', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    const incident = await h.page(dana);
    await h.sms(number, `Klaxon #${incident.number}`);

    const unsigned = await h.twilio.sms(h.inboundSmsUrl, number, '1a', { signature: null });
    expect(unsigned.status).toBe(403);
    expect(unsigned.text).toContain('X-Twilio-Signature is missing');
    const forged = await h.twilio.sms(h.inboundSmsUrl, number, '1a', { signature: 'bm90IGEgc2lnbmF0dXJl' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('X-Twilio-Signature does not match');
    // Signed for another URL (a replay against this one) is refused too.
    const other = await fetch(h.inboundSmsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': (await import('twilio')).default.getExpectedTwilioSignature(h.twilio.authToken, `${h.url}/elsewhere`, {
          From: number,
          Body: '1a',
          MessageSid: 'SMx',
        }),
      },
      body: new URLSearchParams({ From: number, Body: '1a', MessageSid: 'SMx' }).toString(),
    });
    expect(other.status).toBe(403);
    await h.quiet();
    expect(h.events('responder.action', (d) => d.incidentId === incident.incidentId)).toHaveLength(0);
  });

  it('fails over from a failed SMS to the voice call at once, without waiting for its delay', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    const voiceId = await h.phone(dana.id, 'voice', number);
    await h.rules(dana.id, 'high', [
      { contactMethodId: smsId, delayMinutes: 0 },
      { contactMethodId: voiceId, delayMinutes: 10 },
    ]);
    const incident = await h.page(dana, { title: 'Payments down' });
    const sms = await h.sms(number, `Klaxon #${incident.number}`);
    expect((await h.twilio.messageStatus(sms, 'failed', '30003')).status).toBe(204);

    const call = await h.call(number);
    expect(spoken(call.twiml)[0]).toBe(
      `This is Klaxon. Incident ${incident.number} on Checkout API: Payments down. Press 4 to acknowledge, 6 to resolve, 5 to escalate, or 1 to hear this again.`,
    );
    expect(call.machineDetection).toBe('Enable');
    const failed = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'sms' && d.status === 'failed')[0],
      {
        what: 'the failed SMS announced',
      },
    );
    expect(failed).toMatchObject({ error: 'Twilio error 30003 (failed)', destination: `***${number.slice(-4)}` });

    // The person picks up and presses 4.
    const answer = await h.twilio.press(call, '4');
    expect(answer.status).toBe(200);
    expect(spoken(answer.text)).toEqual([`Acknowledged incident ${incident.number} (Payments down). Goodbye.`]);
    const action = await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId)[0], { what: 'the acknowledgement' });
    expect(action).toMatchObject({ action: 'acknowledge', source: 'voice', userId: dana.id });

    // The same keypress again (Twilio retrying, or someone replaying the signed request) is answered
    // as before and acts no more: an escalation pressed once escalates once.
    const escalated = await h.twilio.press(call, '5');
    expect(spoken(escalated.text)[0]).toMatch(/Goodbye\.$/);
    expect(spoken((await h.twilio.press(call, '5')).text)).toEqual(spoken(escalated.text));
    const presses = await queryDb<{ n: number }>(
      db(),
      `SELECT count(*)::int AS n FROM inbound_messages WHERE provider = 'twilio-voice' AND provider_message_id = $1`,
      [`${call.sid}:5`],
    );
    expect(presses[0]!.n).toBe(1);
    await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId && d.action === 'escalate').length === 1, {
      what: 'one escalation',
    });
  });

  /** Waits until the page's send failed in a way that may or may not have reached Twilio: notifier must ask Twilio before anything is resent. */
  const inDoubt = (incidentId: string) =>
    soon(
      async () =>
        (
          await queryDb(db(), `SELECT 1 FROM notifications WHERE incident_id = $1 AND kind = 'page' AND status = 'sending' AND error LIKE 'Twilio 500%'`, [
            incidentId,
          ])
        ).length > 0,
      { what: 'the send in doubt' },
    );

  it("asking Twilio whether a page's call went out never takes another message's call to the number (a verification call) for it", async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const voiceId = await h.phone(dana.id, 'voice', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: voiceId, delayMinutes: 0 }]);
    h.twilio.refuseNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    const incident = await h.page(dana, { title: 'Ledger stuck' });
    await inDoubt(incident.incidentId);
    // Meanwhile someone else adds the same number: Twilio calls it with their verification code.
    const sam = await h.user('Sam');
    expect((await h.api.post(`/api/v1/users/${sam.id}/contact-methods`, { type: 'voice', value: number })).status).toBe(201);
    await soon(
      async () =>
        (await queryDb(db(), `SELECT 1 FROM notifications WHERE user_id = $1 AND kind = 'verification' AND provider_message_id IS NOT NULL`, [sam.id])).length >
        0,
      { what: "Sam's verification call recorded" },
    );
    // Past the retry delay notifier asks Twilio: the only calls since are the verification calls, so the page call is placed now.
    h.advance(11_000);
    const call = await h.call(number, 1);
    expect(spoken(call.twiml)[0]).toContain(`Incident ${incident.number} on Checkout API: Ledger stuck.`);
  });

  it('asks Twilio about a send in doubt without holding its rows locked, then sends it', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    h.twilio.refuseNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    const incident = await h.page(dana, { title: 'Cache cold' });
    await inDoubt(incident.incidentId);
    const release = h.twilio.holdLists();
    try {
      const asked = h.twilio.listRequests;
      h.advance(11_000);
      await soon(async () => h.twilio.listRequests > asked, { what: 'notifier asking Twilio' });
      // Twilio has not answered yet: the notification can still be locked by anyone else (a status callback, a reply).
      const rows = await queryDb(db(), `SELECT id FROM notifications WHERE incident_id = $1 AND kind = 'page' FOR UPDATE NOWAIT`, [incident.incidentId]);
      expect(rows).toHaveLength(1);
    } finally {
      release();
    }
    await h.sms(number, `Klaxon #${incident.number}`);
  });

  it('calls again when nobody answers, notes a machine, and repeats the page on 1', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const voiceId = await h.phone(dana.id, 'voice', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: voiceId, delayMinutes: 0 }]);
    const incident = await h.page(dana, { title: 'Queue backlog' });
    const first = await h.call(number, 1);
    await h.twilio.callStatus(first, 'no-answer');
    await h.quiet();
    expect(h.twilio.callsTo(number).filter((c) => !/verification/.test(c.twiml))).toHaveLength(1);
    h.advance(61_000);
    const second = await h.call(number, 2);

    // A keypress must come from Twilio too.
    const forged = await h.twilio.webhook(gatherAction(second.twiml), { CallSid: second.sid, Digits: '4' }, { signature: 'c29tZW9uZSBlbHNl' });
    expect(forged.status).toBe(403);
    const repeat = await h.twilio.press(second, '1');
    expect(spoken(repeat.text)[0]).toContain(`Incident ${incident.number} on Checkout API: Queue backlog.`);
    await h.twilio.callStatus(second, 'completed', 'machine_end_beep');
    const delivered = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.status === 'delivered')[0],
      {
        what: 'the call delivered',
      },
    );
    expect(delivered.error).toBe('answered by machine end beep');
  });

  it('sends several pending pages to one person as one SMS bundle, and "100a" acknowledges them all', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    const first = await h.page(dana, { title: 'API errors' });
    await h.sms(number, `Klaxon #${first.number}`);
    // One SMS a minute: these wait, and go together.
    const second = await h.page(dana, { title: 'DB slow' });
    const third = await h.page(dana, { title: 'Cache misses' });
    await soon(async () => (await pending(number)) === 2, { what: 'two pages waiting' });
    await h.quiet();
    expect(h.pageSms(number)).toHaveLength(1);
    h.advance(60_000);
    const bundle = await h.sms(number, 'incidents on Checkout API');
    expect(bundle.body).toBe(`Klaxon: 2 incidents on Checkout API (#${second.number}, #${third.number}) — reply 100a to acknowledge all, 100c to resolve all.`);
    expect(h.pageSms(number)).toHaveLength(2);

    const reply = await h.twilio.sms(h.inboundSmsUrl, number, '100a');
    expect(reply.text).toContain(`Acknowledged 2 incidents: #${second.number}, #${third.number}.`);
    await soon(async () => h.events('responder.action', (d) => [second.incidentId, third.incidentId].includes(d.incidentId)).length === 2, {
      what: 'two acknowledgements',
    });
    // The first incident's own code still works, and is separate.
    const one = await h.twilio.sms(h.inboundSmsUrl, number, '1c');
    expect(one.text).toContain(`Resolved #${first.number} (API errors).`);
  });

  it('honours STOP and START: no SMS while stopped (the page goes by email instead)', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    const stop = await h.twilio.sms(h.inboundSmsUrl, number, 'STOP');
    expect(stop.text).toContain('you will get no more SMS on this number');
    const incident = await h.page(dana, { title: 'While stopped' });
    const failed = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'sms' && d.status === 'failed')[0],
      {
        what: 'the SMS refused',
      },
    );
    expect(failed.error).toContain('replied STOP');
    await soon(
      async () =>
        h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'email' && d.status === 'sent').length === 1,
      {
        what: 'the email instead',
      },
    );
    expect(h.pageSms(number)).toHaveLength(0);

    const start = await h.twilio.sms(h.inboundSmsUrl, number, 'START');
    expect(start.text).toContain('SMS to this number are back on');
    const next = await h.page(dana, { title: 'After start' });
    await h.sms(number, `Klaxon #${next.number}`);
  });

  it('remembers a number Twilio says opted out (21610) and stops texting it', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    h.twilio.refuseNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const first = await h.page(dana, { title: 'Opted out at the carrier' });
    const refused = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === first.incidentId && d.channel === 'sms' && d.status === 'failed')[0],
      { what: 'the refusal' },
    );
    expect(refused.error).toBe('Twilio 400 (error 21610): Attempt to send to unsubscribed recipient');
    const posts = h.twilio.requests.filter((r) => r.method === 'POST').length;
    h.advance(60_000);
    const second = await h.page(dana, { title: 'After the opt-out' });
    const stopped = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === second.incidentId && d.channel === 'sms' && d.status === 'failed')[0],
      { what: 'the second SMS refused here' },
    );
    expect(stopped.error).toContain('replied STOP');
    expect(h.twilio.requests.filter((r) => r.method === 'POST').length).toBe(posts);
  });

  it('retries a message Twilio refused for now (429) with backoff, and fails over when the number is invalid', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const smsId = await h.phone(dana.id, 'sms', number);
    await h.rules(dana.id, 'high', [{ contactMethodId: smsId, delayMinutes: 0 }]);
    h.twilio.refuseNext(1, { status: 429, code: 20429, message: 'Too Many Requests' });
    const incident = await h.page(dana, { title: 'Retry me' });
    await soon(async () => (await pending(number)) === 1 && (await attempts(number)) === 1, { what: 'the refused attempt, waiting for its retry' });
    expect(h.pageSms(number)).toHaveLength(0);
    h.advance(10_000);
    await h.sms(number, `Klaxon #${incident.number}`);
    expect(h.pageSms(number)).toHaveLength(1);

    h.twilio.refuseNext(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const bad = await h.page(dana, { title: 'Invalid number' });
    h.advance(60_000);
    const failed = await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === bad.incidentId && d.channel === 'sms' && d.status === 'failed')[0],
      {
        what: 'the refused SMS',
      },
    );
    expect(failed.error).toBe("Twilio 400 (error 21211): The 'To' number is not a valid phone number.");
    await soon(
      async () => h.events('notification.status-changed', (d) => d.incidentId === bad.incidentId && d.channel === 'email' && d.status === 'sent').length === 1,
      {
        what: 'the email fallback',
      },
    );
  });

  it('stops calling FCM while it keeps failing (circuit open), and delivers every page once it recovers', async () => {
    const people = await Promise.all(['Ann', 'Bob', 'Cat', 'Dan', 'Eve', 'Fay'].map((n) => h.user(n)));
    const tokens = people.map((p) => `fcm-token-circuit-${p.name.toLowerCase()}-0123456789`);
    await Promise.all(people.map((p, i) => h.push(p.id, tokens[i]!)));
    const before = h.fcm.sendRequests;
    h.fcm.refuseNext(5);
    for (const p of people.slice(0, 5)) await h.page(p, { title: `FCM down for ${p.name}` });
    await soon(async () => h.fcm.sendRequests === before + 5, { what: 'five failed pushes' });
    // The sixth page finds the circuit open: it waits instead of calling FCM.
    const sixth = await h.page(people[5]!, { title: 'While the circuit is open' });
    await soon(
      async () =>
        (
          await queryDb(
            db(),
            `SELECT 1 FROM notifications WHERE incident_id = $1 AND channel = 'push' AND status = 'queued' AND due_at > (page->>'requestedAt')::timestamptz + interval '1 second'`,
            [sixth.incidentId],
          )
        ).length === 1,
      { what: 'the sixth push held back' },
    );
    expect(h.fcm.sendRequests).toBe(before + 5);
    // Once the pause is over, one trial call closes the circuit and everything goes, each once.
    h.advance(30_000);
    await soon(async () => tokens.every((t) => h.fcm.to(t).length === 1), { what: 'all six pushes delivered' });
    await h.quiet();
    expect(tokens.map((t) => h.fcm.to(t).length)).toEqual([1, 1, 1, 1, 1, 1]);
    const metrics = (await h.api.get('/metrics')).body as string;
    expect(metrics).toMatch(/klaxon_notifier_provider_calls_total\{channel="push",provider="fcm",outcome="not-sent"[^}]*\} ([5-9]|\d\d)/);
    expect(metrics).toMatch(/klaxon_notifier_circuit_open\{channel="push"[^}]*\} 0/);
  });

  it('emails through SMTP in HTML and text with signed links, and the link acknowledges', async () => {
    const dana = await h.user('Dana');
    const incident = await h.page(dana, { title: 'Mail relay check' });
    const mail = await soon(async () => h.smtp.to(dana.email)[0], { what: 'the page email' });
    expect(mail.from).toBe('pager@klaxon.test');
    expect(mail.subject).toBe(`[Klaxon] #${incident.number} Checkout API: Mail relay check`);
    const ack = new RegExp(`Acknowledge: (${h.url}/l/\\S+)`).exec(mail.text)![1]!;
    expect(mail.text).toMatch(new RegExp(`Resolve: ${h.url}/l/\\S+`));
    expect(mail.html).toContain(`href="${ack}"`);
    expect(mail.text).toContain(`Open it: https://console.example.com/incidents/${incident.number}`);
    expect(mail.messageId).toMatch(/@klaxon\.test>$/);
    expect((await fetch(ack, { method: 'POST' })).status).toBe(200);
    await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId && d.source === 'email').length === 1, {
      what: 'the acknowledgement',
    });
  });

  it('forgets a push device FCM says is gone, and the page still reaches the user by email', async () => {
    const dana = await h.user('Dana');
    const token = 'fcm-token-uninstalled-app-0123456789';
    await h.push(dana.id, token);
    h.fcm.unregister(token);
    const incident = await h.page(dana, { urgency: 'low' });
    await soon(
      async () =>
        h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'push' && d.status === 'failed').length === 1,
      {
        what: 'the push failed',
      },
    );
    await soon(
      async () =>
        h.events('notification.status-changed', (d) => d.incidentId === incident.incidentId && d.channel === 'email' && d.status === 'sent').length === 1,
      {
        what: 'the email',
      },
    );
    const methods = await h.api.get(`/api/v1/users/${dana.id}/contact-methods`);
    expect(methods.body.filter((m: { type: string }) => m.type === 'push')).toEqual([]);
  });
});
