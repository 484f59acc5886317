import { queryDb } from '#libs/testing';
import { NotifierHarness, newNumber, soon } from './harness.js';

interface InboxMessage {
  notification_id: string | null;
  channel: string;
  direction: 'in' | 'out';
  destination: string;
  subject: string | null;
  body: string;
  meta: { actions?: { label: string; url: string }[] };
}

/**
 * Capture mode (no provider set up): every message lands in the inbox, where a person reads it,
 * follows its links, answers its SMS and presses its call's keys, and each acts as on a phone.
 * Also the signed links' rules: a GET never acts, a link works once, and expires.
 */
describe('notifier in capture mode: the inbox, and signed acknowledge links', () => {
  const h = new NotifierHarness();

  beforeAll(() => h.start({ LINK_TTL_MINUTES: '60', RATE_LIMIT_SMS: 'off', USER_DAILY_PHONE_LIMIT: '2' }, { twilio: false, fcm: false, smtp: false }));
  afterAll(() => h.stop());

  const inbox = async (to: string): Promise<InboxMessage[]> => (await h.api.get(`/api/v1/inbox?to=${encodeURIComponent(to)}`)).body;
  const waitFor = (to: string, match: (m: InboxMessage) => boolean, what: string) => soon(async () => (await inbox(to)).find(match), { what });

  it('shows the page email with links that ask before acknowledging, then act once', async () => {
    const dana = await h.user('Dana');
    const incident = await h.page(dana, { title: 'Disk full on db1' });
    const mail = await waitFor(dana.email, (m) => m.channel === 'email', 'the page email in the inbox');
    expect(mail.subject).toBe(`[Klaxon] #${incident.number} Checkout API: Disk full on db1`);
    expect(mail.body).toContain(`Incident #${incident.number} on Checkout API needs you.`);
    const ack = mail.meta.actions!.find((a) => a.label === 'Acknowledge')!.url;
    const resolve = mail.meta.actions!.find((a) => a.label === 'Resolve')!.url;
    expect(mail.body).toContain(`Acknowledge: ${ack}`);
    expect(mail.body).not.toContain('Open it'); // no console configured (INCIDENT_URL_TEMPLATE)

    // Opening the link (as a mail scanner would) only asks.
    const opened = await fetch(ack);
    expect(opened.status).toBe(200);
    const confirm = await opened.text();
    expect(confirm).toContain(`Acknowledge incident #${incident.number}?`);
    expect(confirm).toContain('<form method="post"');
    await h.quiet();
    expect(h.events('responder.action', (d) => d.incidentId === incident.incidentId)).toHaveLength(0);

    const done = await fetch(ack, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain(`Acknowledged #${incident.number} (Disk full on db1).`);
    const action = await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId)[0], { what: 'the acknowledgement' });
    expect(action).toMatchObject({ action: 'acknowledge', source: 'email', userId: dana.id });

    const again = await fetch(ack, { method: 'POST' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('This link was already used');

    // The resolve link still works once, but not after it expired.
    h.advance(61 * 60_000);
    const late = await fetch(resolve);
    expect(late.status).toBe(410);
    expect(await late.text()).toContain('This link has expired');
    expect((await fetch(resolve, { method: 'POST' })).status).toBe(410);

    // A link whose signature does not match is not a link at all.
    const forged = ack.replace(/\.[A-Za-z0-9_-]+$/, '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await fetch(forged, { method: 'POST' })).status).toBe(404);
    await h.quiet();
    expect(h.events('responder.action', (d) => d.incidentId === incident.incidentId)).toHaveLength(1);
  });

  it('lets a push app act on a link token directly (JSON)', async () => {
    const dana = await h.user('Dana');
    await h.push(dana.id, 'fcm-token-capture-device-0123456789');
    const incident = await h.page(dana, { title: 'From the lock screen' });
    const push = await waitFor('fcm-token-capture-device-0123456789', (m) => m.channel === 'push', 'the captured push');
    expect(push.subject).toBe(`#${incident.number} Checkout API`);
    const resolveUrl = push.meta.actions!.find((a) => a.label === 'Resolve')!.url;
    const res = await fetch(resolveUrl, { method: 'POST', headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ action: 'resolve', message: `Resolved #${incident.number} (From the lock screen).` });
    await soon(
      async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId && d.action === 'resolve' && d.source === 'push').length === 1,
      {
        what: 'the resolve from push',
      },
    );
  });

  it('verifies a number and answers its SMS from the inbox, as from the phone', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const created = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: number });
    const codeSms = await waitFor(number, (m) => m.body.includes('verification code'), 'the code in the inbox');
    const code = /code is (\d{6})/.exec(codeSms.body)![1];
    expect((await h.api.post(`/api/v1/users/${dana.id}/contact-methods/${created.body.id}/verify`, { code })).status).toBe(200);
    await h.rules(dana.id, 'high', [{ contactMethodId: created.body.id, delayMinutes: 0 }]);

    const incident = await h.page(dana, { title: 'Login errors' });
    const sms = await waitFor(number, (m) => m.body.startsWith(`Klaxon #${incident.number}`), 'the page SMS');
    expect(sms.body).toContain('Reply 1a to ack');
    const answered = await h.api.post('/api/v1/inbox/sms-replies', { from: number, body: '1a' });
    expect(answered.status).toBe(200);
    expect(answered.body.reply).toBe(`Acknowledged #${incident.number} (Login errors).`);
    await soon(async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId && d.source === 'sms').length === 1, {
      what: 'the acknowledgement',
    });
    const thread = await inbox(number);
    expect(thread.slice(0, 2).map((m) => [m.direction, m.body])).toEqual([
      ['out', `Acknowledged #${incident.number} (Login errors).`],
      ['in', '1a'],
    ]);
    const html = await (await fetch(`${h.url}/inbox`)).text();
    expect(html).toContain(`placeholder="Reply as ${number}, e.g. 1a"`);

    const nonsense = await h.api.post('/api/v1/inbox/sms-replies', { from: number, body: 'what is this' });
    expect(nonsense.body.reply).toContain('Klaxon did not understand "what is this". Klaxon: reply 1a to acknowledge');
  });

  it("presses a captured call's keys from the inbox", async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const created = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'voice', value: number });
    const codeCall = await waitFor(number, (m) => m.body.includes('verification code'), 'the code call');
    const code = /code is: ((?:\d, ){5}\d)/.exec(codeCall.body)![1]!.replace(/\D/g, '');
    expect((await h.api.post(`/api/v1/users/${dana.id}/contact-methods/${created.body.id}/verify`, { code })).status).toBe(200);
    await h.rules(dana.id, 'high', [{ contactMethodId: created.body.id, delayMinutes: 0 }]);
    const incident = await h.page(dana, { title: 'Worker crash loop' });
    const call = await waitFor(number, (m) => m.channel === 'voice' && m.body.includes(`Incident ${incident.number}`), 'the captured call');
    const pressed = await h.api.post(`/api/v1/inbox/calls/${call.notification_id}/keys`, { digits: '6' });
    expect(pressed.body).toEqual({ say: `Resolved incident ${incident.number} (Worker crash loop). Goodbye.`, hangUp: true });
    await soon(
      async () => h.events('responder.action', (d) => d.incidentId === incident.incidentId && d.action === 'resolve' && d.source === 'voice').length === 1,
      {
        what: 'the resolve by keypress',
      },
    );
  });

  it('caps SMS and calls per user per day (USER_DAILY_PHONE_LIMIT): beyond it the page goes by email', async () => {
    const dana = await h.user('Dana');
    const number = newNumber();
    const created = await h.api.post(`/api/v1/users/${dana.id}/contact-methods`, { type: 'sms', value: number });
    const codeSms = await waitFor(number, (m) => m.body.includes('verification code'), 'the code');
    await h.api.post(`/api/v1/users/${dana.id}/contact-methods/${created.body.id}/verify`, { code: /code is (\d{6})/.exec(codeSms.body)![1] });
    await h.rules(dana.id, 'high', [{ contactMethodId: created.body.id, delayMinutes: 0 }]);
    const pages: { incidentId: string }[] = [];
    for (let i = 1; i <= 2; i++) {
      pages.push(await h.page(dana, { title: `Page ${i} today` }));
      await waitFor(number, (m) => m.body.includes(`Page ${i} today`), `page ${i} by SMS`);
    }
    pages.push(await h.page(dana, { title: 'Page 3 today' }));
    await waitFor(dana.email, (m) => m.subject?.includes('Page 3 today') ?? false, 'the third page by email');
    expect((await inbox(number)).filter((m) => m.body.startsWith('Klaxon #')).map((m) => m.body.includes('Page 3 today'))).toEqual([false, false]);
    const refused = await soon(async () => h.events('notification.status-changed', (d) => d.incidentId === pages[2]!.incidentId && d.channel === 'sms')[0], {
      what: 'the refused SMS announced',
    });
    expect(refused).toMatchObject({ status: 'failed', error: 'daily limit of 2 SMS and calls for this user reached' });
  });

  it('emails stakeholder updates to each listed recipient once', async () => {
    const incidentId = crypto.randomUUID();
    await h.publish('stakeholder-update.requested', incidentId, {
      incidentId,
      number: 42,
      serviceId: crypto.randomUUID(),
      updateId: crypto.randomUUID(),
      title: 'Checkout degraded',
      summary: 'Payments are slow; a fix is rolling out',
      message: 'We found the cause and are deploying a fix. Next update in 30 minutes.',
      recipients: [
        { email: 'ceo@example.com', name: 'Ada' },
        { email: 'CEO@example.com', name: 'Ada again' },
        { email: 'support@example.com', name: null },
      ],
      requestedAt: h.clock.now().toISOString(),
    });
    const mail = await waitFor('ceo@example.com', (m) => m.channel === 'email', 'the update');
    expect(mail.subject).toBe('[Klaxon] Update on #42 Checkout degraded: Payments are slow; a fix is rolling out');
    expect(mail.body).toContain('Next update in 30 minutes.');
    await waitFor('support@example.com', (m) => m.channel === 'email', 'the update to support');
    await h.quiet();
    expect((await h.api.get('/api/v1/inbox?channel=email&limit=500')).body.filter((m: InboxMessage) => /ceo@example.com/i.test(m.destination))).toHaveLength(1);
  });

  it('keeps its tables small: a daily timer prunes old inbox messages, links and finished notifications', async () => {
    expect((await h.api.get('/api/v1/inbox?limit=500')).body.length).toBeGreaterThan(0);
    h.advance(91 * 86400_000);
    await soon(async () => (await h.api.get('/api/v1/inbox?limit=500')).body.length === 0, { what: 'the inbox pruned' });
    const left = await queryDb<{ n: number }>(h.world.databaseUrl('notifier'), `SELECT count(*)::int AS n FROM notifications WHERE status <> 'queued'`);
    expect(left[0]!.n).toBe(0);
  });

  it('refuses Twilio webhooks when Twilio is not set up', async () => {
    const res = await h.api.as(null).post('/api/v1/twilio/sms/inbound', { From: '+14155550100', Body: '1a', MessageSid: 'SM1' });
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('Twilio is not configured here');
  });
});
