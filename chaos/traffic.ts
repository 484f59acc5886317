import { eventually, expectOk, gatherAction, type Api, type FakeCall, type FakeSms, type ReceivedMail } from '#libs/testing';
import type { Random } from './random.js';
import type { ChaosStack } from './stack.js';

export type Sender = 'pagerduty' | 'opsgenie' | 'alertmanager' | 'webhook';
const SENDERS: Sender[] = ['pagerduty', 'opsgenie', 'alertmanager', 'webhook'];
const INTEGRATION: Record<Sender, { type: string; config?: Record<string, unknown> }> = {
  pagerduty: { type: 'events-api-v2' },
  opsgenie: { type: 'opsgenie' },
  alertmanager: { type: 'alertmanager' },
  webhook: { type: 'webhook', config: { dedupKeyPath: 'id', actionPath: 'state', summaryPath: 'title' } },
};

export interface ChaosService {
  id: string;
  name: string;
  sender: Sender;
  key: string;
}

/** A monitored thing: one dedup key on one service, fired and cleared by its monitor. */
export interface MonitoredKey {
  service: ChaosService;
  key: string;
  /** Alertmanager: the start of the current firing episode. */
  startsAt: string;
  triggersAccepted: number;
  resolvesAccepted: number;
  busy: boolean;
}

export interface Person {
  id: string;
  name: string;
  email: string;
  number: string;
}

/** People with verified phones, two-person daily rotations, policies that escalate every minute and loop once, and services with one integration each (the four senders in turn). */
export async function buildWorld(
  stack: ChaosStack,
  opts: { people: number; services: number; keys: number },
  random: Random,
): Promise<{ people: Person[]; keys: MonitoredKey[] }> {
  const oncall = stack.api('oncall');
  const notifier = stack.api('notifier');
  const ingest = stack.api('alert-ingest');
  const people: Person[] = [];
  for (let i = 0; i < opts.people; i++) {
    const email = `responder-${i}@example.com`;
    const user = await expectOk(oncall.post('/api/v1/users', { name: `Responder ${i}`, email }));
    const number = `+1415555${String(2000 + i).padStart(4, '0')}`;
    const sms = await verifiedPhone(stack, notifier, user.id, 'sms', number);
    const voice = await verifiedPhone(stack, notifier, user.id, 'voice', number);
    const mail = await expectOk<{ id: string }>(notifier.post(`/api/v1/users/${user.id}/contact-methods`, { type: 'email', value: email }));
    const push = await expectOk<{ id: string }>(
      notifier.post(`/api/v1/users/${user.id}/contact-methods`, { type: 'push', value: `fcm-token-chaos-device-${i}`, label: 'Phone' }),
    );
    // Every page goes by push, SMS and email at once, and by a call a minute later.
    const rules = [
      { contactMethodId: push.id, delayMinutes: 0 },
      { contactMethodId: sms, delayMinutes: 0 },
      { contactMethodId: mail.id, delayMinutes: 0 },
      { contactMethodId: voice, delayMinutes: 1 },
    ];
    await expectOk(notifier.put(`/api/v1/users/${user.id}/notification-rules/high`, { rules }));
    people.push({ id: user.id, name: user.name, email, number });
  }
  const policies: string[] = [];
  for (let s = 0; s < Math.ceil(opts.people / 2); s++) {
    const pair = [people[(2 * s) % people.length]!.id, people[(2 * s + 1) % people.length]!.id];
    const schedule = await expectOk(
      oncall.post('/api/v1/schedules', {
        name: `Rotation ${s}`,
        timeZone: 'UTC',
        layers: [{ name: 'daily', participants: pair, turn: { unit: 'days', count: 1 }, startDate: '2026-01-05' }],
      }),
    );
    const backup = people[(2 * s + 2) % people.length]!.id;
    const policy = await expectOk(
      oncall.post('/api/v1/escalation-policies', {
        name: `Policy ${s}`,
        repeatCount: 1,
        steps: [
          { delayMinutes: 1, targets: [{ type: 'schedule', id: schedule.id }] },
          { delayMinutes: 1, targets: [{ type: 'user', id: backup }] },
        ],
      }),
    );
    policies.push(policy.id);
  }
  const services: ChaosService[] = [];
  for (let i = 0; i < opts.services; i++) {
    const sender = SENDERS[i % SENDERS.length]!;
    const service = await expectOk(oncall.post('/api/v1/services', { name: `Chaos ${i} (${sender})`, escalationPolicyId: policies[i % policies.length]! }));
    // alert-ingest hears of the service from oncall's directory events: retry until it has.
    let integration: { key: string } | undefined;
    await eventually(
      async () => {
        const res = await ingest.post('/api/v1/integrations', { serviceId: service.id, name: sender, ...INTEGRATION[sender] });
        if (res.status < 300) integration = res.body;
        return res.status < 300;
      },
      { timeoutMs: 60_000, what: `an ${sender} integration` },
    );
    services.push({ id: service.id, name: service.name, sender, key: integration!.key });
  }
  const keys: MonitoredKey[] = Array.from({ length: opts.keys }, (_, i) => ({
    service: services[i % services.length]!,
    key: `chaos-${i}-${random.int(1e6).toString(36)}`,
    startsAt: new Date().toISOString(),
    triggersAccepted: 0,
    resolvesAccepted: 0,
    busy: false,
  }));
  return { people, keys };
}

async function verifiedPhone(stack: ChaosStack, notifier: Api, userId: string, type: 'sms' | 'voice', number: string): Promise<string> {
  const before = type === 'sms' ? stack.twilio.messages.length : stack.twilio.calls.length;
  // notifier hears of new users from oncall's events; it waits a moment for one it does not know yet.
  const created = await expectOk(notifier.post(`/api/v1/users/${userId}/contact-methods`, { type, value: number }));
  const text = await eventually(
    async () => {
      if (type === 'sms') return stack.twilio.messages.slice(before).find((m) => m.to === number)?.body;
      const call = stack.twilio.calls.slice(before).find((c) => c.to === number);
      return call && [...call.twiml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1]).join(' ');
    },
    { timeoutMs: 30_000, what: `the ${type} verification code for ${number}` },
  );
  const code = /code is:? ((?:\d,? ?){6})/.exec(text)?.[1]?.replace(/\D/g, '');
  if (!code) throw new Error(`no verification code in: ${text}`);
  await expectOk(notifier.post(`/api/v1/users/${userId}/contact-methods/${created.id}/verify`, { code }));
  return created.id;
}

// ---- the monitors ------------------------------------------------------------------------------

export interface SendLog {
  accepted: number;
  /** 4xx answers: a sender's event refused (never expected here). */
  refused: { what: string; status: number; body: string }[];
  /** Given up after retrying for a minute (intake down): the sender knows it was not taken. */
  abandoned: number;
  retries: number;
  byType: Record<Sender, number>;
  /** Requests that were accepted, per sender (Alertmanager's carry several events). */
  requests: Record<Sender, number>;
}

export type Action = 'trigger' | 'resolve';

/** What a monitor sends for a trigger or a resolve, in its sender's own format; Alertmanager sends several alerts of one integration in one webhook. */
function request(events: { k: MonitoredKey; action: Action }[]): { path: string; body: unknown; headers?: Record<string, string> } {
  const { k, action } = events[0]!;
  const s = k.service;
  const summary = `Chaos ${k.key} failing`;
  switch (s.sender) {
    case 'pagerduty':
      return {
        path: '/v2/enqueue',
        body: {
          routing_key: s.key,
          event_action: action,
          dedup_key: k.key,
          ...(action === 'trigger' ? { payload: { summary, source: 'chaos', severity: 'critical' } } : {}),
        },
      };
    case 'opsgenie':
      return action === 'trigger'
        ? { path: '/v2/alerts', body: { message: summary, alias: k.key, priority: 'P1' }, headers: { authorization: `GenieKey ${s.key}` } }
        : {
            path: `/v2/alerts/${encodeURIComponent(k.key)}/close?identifierType=alias`,
            body: { source: 'chaos' },
            headers: { authorization: `GenieKey ${s.key}` },
          };
    case 'alertmanager': {
      const alerts = events.map((e) => ({
        status: e.action === 'trigger' ? 'firing' : 'resolved',
        labels: { alertname: 'Chaos', key: e.k.key },
        annotations: { summary: `Chaos ${e.k.key} failing` },
        startsAt: e.k.startsAt,
        endsAt: e.action === 'trigger' ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
        fingerprint: e.k.key,
      }));
      return {
        path: `/integrations/alertmanager/${s.key}`,
        body: {
          version: '4',
          receiver: 'klaxon',
          status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
          groupKey: `{}:{alertname="Chaos"}`,
          groupLabels: { alertname: 'Chaos' },
          commonLabels: { alertname: 'Chaos' },
          commonAnnotations: {},
          externalURL: 'http://alertmanager.chaos',
          alerts,
        },
      };
    }
    case 'webhook':
      return { path: `/integrations/webhook/${s.key}`, body: { id: k.key, state: action === 'trigger' ? 'DOWN' : 'UP', title: summary } };
  }
}

/**
 * Sends events as a monitor would, in one request (several only in Alertmanager's batches; each
 * counts as accepted when the request is): retried on 5xx and lost connections for up to a minute
 * (PagerDuty's and Alertmanager's senders retry; a 2xx is the promise that nothing is lost).
 */
export async function sendEvents(ingest: string, events: { k: MonitoredKey; action: Action }[], log: SendLog): Promise<boolean> {
  const r = request(events);
  const what = events.map((e) => `${e.action} ${e.k.key}`).join(', ');
  const sender = events[0]!.k.service.sender;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let text = '';
    try {
      const res = await fetch(`${ingest}${r.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...r.headers },
        body: JSON.stringify(r.body),
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      text = await res.text();
    } catch {
      status = 0;
    }
    if (status >= 200 && status < 300) {
      log.accepted += events.length;
      log.byType[sender] += events.length;
      log.requests[sender] += 1;
      for (const { k, action } of events) {
        if (action === 'trigger') k.triggersAccepted += 1;
        else {
          k.resolvesAccepted += 1;
          // The next firing is a new episode (Alertmanager: a new startsAt).
          k.startsAt = new Date(Date.now() + 1).toISOString();
        }
      }
      return true;
    }
    if (status >= 400 && status < 500 && status !== 429 && status !== 408) {
      log.refused.push({ what: `${what} (${sender})`, status, body: text.slice(0, 300) });
      return false;
    }
    if (Date.now() - started > 60_000) {
      log.abandoned += events.length;
      return false;
    }
    log.retries += 1;
    await new Promise((res) => setTimeout(res, Math.min(200 * 2 ** attempt, 3000)));
  }
}

// ---- the people --------------------------------------------------------------------------------

export interface Acknowledgement {
  via: 'sms' | 'voice' | 'email';
  action: 'acknowledge' | 'resolve';
  at: number;
  answer: string;
}

/**
 * The responders: they read what reaches their phones and mailboxes and acknowledge some pages,
 * by SMS reply, by keypress during the call, or by the email's link.
 */
export class Responders {
  readonly acks: Acknowledgement[] = [];
  readonly failures: string[] = [];
  private seen = { sms: 0, calls: 0, mails: 0 };
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly stack: ChaosStack,
    private readonly random: Random,
    private readonly share: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.look(), 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  private look(): void {
    const { twilio, smtp } = this.stack;
    const sms = twilio.messages.slice(this.seen.sms);
    const calls = twilio.calls.slice(this.seen.calls);
    const mails = smtp.mails.slice(this.seen.mails);
    this.seen = { sms: twilio.messages.length, calls: twilio.calls.length, mails: smtp.mails.length };
    // Of the pages people act on, most are acknowledged and some resolved from the phone.
    const action = (): Acknowledgement['action'] => (this.random.chance(0.25) ? 'resolve' : 'acknowledge');
    for (const m of sms)
      if (/Reply \d+a to ack/.test(m.body) && this.random.chance(this.share)) {
        const a = action();
        this.act('sms', a, () => this.replySms(m, a));
      }
    for (const c of calls)
      if (/Press 4 to acknowledge/.test(c.twiml) && this.random.chance(this.share)) {
        const a = action();
        this.act('voice', a, () => this.press(c, a));
      }
    for (const m of mails)
      if (/Acknowledge: http/.test(m.text) && this.random.chance(this.share)) {
        const a = action();
        this.act('email', a, () => this.click(m, a));
      }
  }

  private act(via: Acknowledgement['via'], action: Acknowledgement['action'], fn: () => Promise<{ status: number; text: string }>): void {
    const p = (async () => {
      // The phone side retries too: a person taps again when the first tap fails.
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const res = await fn();
          if (res.status === 200) {
            this.acks.push({ via, action, at: Date.now(), answer: res.text.replace(/<[^>]+>/g, ' ').slice(0, 200) });
            return;
          }
          if (res.status < 500 && res.status !== 429) {
            this.failures.push(`${via}: ${res.status} ${res.text.slice(0, 200)}`);
            return;
          }
        } catch {
          // notifier unreachable for a moment
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
      this.failures.push(`${via}: no answer after 20 tries`);
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private replySms(m: FakeSms, action: Acknowledgement['action']): Promise<{ status: number; text: string }> {
    const code = /Reply (\d+)a to ack/.exec(m.body)![1]!;
    return this.stack.twilio.sms(`${this.stack.balancers.get('notifier')!.url}/api/v1/twilio/sms/inbound`, m.to, `${code}${action === 'resolve' ? 'c' : 'a'}`);
  }

  private press(c: FakeCall, action: Acknowledgement['action']): Promise<{ status: number; text: string }> {
    return this.stack.twilio.webhook(gatherAction(c.twiml), {
      CallSid: c.sid,
      Digits: action === 'resolve' ? '6' : '4',
      AccountSid: this.stack.twilio.accountSid,
    });
  }

  private async click(m: ReceivedMail, action: Acknowledgement['action']): Promise<{ status: number; text: string }> {
    const url = (action === 'resolve' ? /Resolve: (http\S+)/ : /Acknowledge: (http\S+)/).exec(m.text)![1]!;
    const res = await fetch(url, { method: 'POST', headers: { accept: 'application/json' } });
    return { status: res.status, text: await res.text() };
  }
}
