import pg from 'pg';
import type { ServiceName } from '#libs/devstack';
import { FakeFcm, type FcmSend } from './fake-fcm.js';
import { FakeTwilio, gatherAction, type FakeCall, type FakeSms } from './fake-twilio.js';
import { eventually, freePort } from './infra.js';
import { waitUntilQuiet } from './quiet.js';
import { expectOk } from './scenario.js';
import { SmtpSink, type ReceivedMail } from './smtp-sink.js';
import { TestWorld, type Api } from './world.js';

/*
 * The whole system for scenario tests, in the spirit of GoAlert's smoke tests: the four services
 * as their own processes over real Kafka and PostgreSQL, one clock the test moves for all of them,
 * a phone (Twilio SMS and calls through the real SDK), a push service (FCM through firebase-admin)
 * and a mail server, all local. A test builds its world in a few lines, acts only through public
 * HTTP APIs and webhooks, and talks to the phone in its own words:
 *
 *   const dana = await sys.person('Dana', { sms: true });
 *   const checkout = await sys.service('Checkout API', { steps: [{ delayMinutes: 5, targets: [dana] }] });
 *   await checkout.trigger('disk', 'Disk full');
 *   await (await dana.expectSms(/Disk full/)).reply('1a', /Acknowledged/);
 *
 * `checkNothingElse()` (call it in afterEach) waits until the system is quiet and fails on any
 * message nobody expected, so every scenario also proves that nobody else was paged.
 */

export type MessageChannel = 'sms' | 'voice' | 'push' | 'email';

/** One message the system sent to the outside world, as the phone or mailbox received it. */
export interface SentMessage {
  channel: MessageChannel;
  to: string;
  /** What a person reads (SMS body, what the call says, the push's title and body, the mail's subject and text). */
  text: string;
  raw: FakeSms | FakeCall | FcmSend | ReceivedMail;
}

type Match = RegExp | string;
const matches = (text: string, m: Match): boolean => (typeof m === 'string' ? text.includes(m) : m.test(text));

export interface PersonOptions {
  /** Give them a verified SMS number / voice number / push device. Email is always there (their account's address). */
  sms?: boolean;
  voice?: boolean;
  push?: boolean;
  /** Notification rules for high urgency, e.g. [['push', 0], ['sms', 1]]; default: each channel they have at 0 minutes, email if none. */
  rules?: [MessageChannel, number][];
}

export interface Target {
  type: 'user' | 'schedule' | 'team';
  id: string;
}

export interface ServiceOptions {
  steps?: { delayMinutes: number; targets: (Target | Person)[] }[];
  repeatCount?: number;
  /** Settings of the service itself (grouping, ackTimeoutSeconds, autoResolveTimeoutSeconds, ...). */
  settings?: Record<string, unknown>;
}

export class PagingSystem {
  readonly world = new TestWorld();
  readonly twilio = new FakeTwilio({ now: () => this.now() });
  readonly fcm = new FakeFcm();
  readonly smtp = new SmtpSink();
  ingest!: Api;
  oncall!: Api;
  notifier!: Api;
  incidents!: Api;
  notifierUrl = '';
  private offsetMs = 0;
  private readonly claimed = new Set<object>();
  private seq = 0;

  /** Starts the four services as processes, each with a test clock, notifier with real providers against the local fakes. */
  static async start(env: Partial<Record<ServiceName, Record<string, string>>> = {}): Promise<PagingSystem> {
    const sys = new PagingSystem();
    await Promise.all([sys.twilio.start(), sys.fcm.start(), sys.smtp.start()]);
    const port = await freePort();
    sys.notifierUrl = `http://127.0.0.1:${port}`;
    const clock = { TEST_CLOCK: 'true' };
    const [i, o, n, inc] = await Promise.all([
      sys.world.spawn('alert-ingest', { ...clock, ...env['alert-ingest'] }),
      sys.world.spawn('oncall', { ...clock, ...env.oncall }),
      sys.world.spawn('notifier', {
        ...clock,
        PORT: String(port),
        PUBLIC_URL: sys.notifierUrl,
        SEND_DEADLINE_SECONDS: '5',
        SMTP_URL: sys.smtp.url,
        EMAIL_FROM: 'Klaxon <pager@klaxon.test>',
        ...sys.twilio.env(),
        ...sys.fcm.env(),
        ...env.notifier,
      }),
      sys.world.spawn('incidents', { ...clock, ...env.incidents }),
    ]);
    [sys.ingest, sys.oncall, sys.notifier, sys.incidents] = [i.api, o.api, n.api, inc.api];
    return sys;
  }

  async stop(): Promise<void> {
    await this.world.close();
    await Promise.all([this.twilio.stop(), this.fcm.stop(), this.smtp.stop()]);
  }

  // ---- the one clock ---------------------------------------------------------------------------

  /** The system's time (every service's clock shows it). */
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /**
   * Moves every service's clock forward together, once what is due now has happened (in real life
   * the services have those seconds; a jump must not overtake an event still on its way).
   */
  async advance(ms: number): Promise<void> {
    await this.settle();
    this.offsetMs += ms;
    await Promise.all([this.ingest, this.oncall, this.notifier, this.incidents].map((api) => expectOk(api.post('/__test/clock/advance', { ms }))));
  }

  async advanceMinutes(minutes: number): Promise<void> {
    await this.advance(minutes * 60_000);
  }

  /**
   * Waits until nothing is left to happen now: every outbox empty, no timer due, no notification
   * being sent or due, and every consumer group caught up with its topics, twice in a row.
   */
  async settle(timeoutMs = 60_000): Promise<void> {
    await settleWorld(this.world, () => this.now(), timeoutMs);
  }

  async query<T = any>(service: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.world.databaseUrl(service) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  // ---- what the outside world received ---------------------------------------------------------

  /** Every message sent so far, oldest first within each channel. */
  sent(): SentMessage[] {
    return [
      ...this.twilio.messages.map((s): SentMessage => ({ channel: 'sms', to: s.to, text: s.body, raw: s })),
      ...this.twilio.calls.map((c): SentMessage => ({ channel: 'voice', to: c.to, text: spokenText(c.twiml), raw: c })),
      ...this.fcm.sends.map((s): SentMessage => ({
        channel: 'push',
        to: s.message.token,
        text: `${s.message.notification?.title ?? ''} ${s.message.notification?.body ?? ''}`.trim(),
        raw: s,
      })),
      ...this.smtp.mails.flatMap((m) => m.to.map((to): SentMessage => ({ channel: 'email', to, text: `${m.subject}\n${m.text}`, raw: m }))),
    ];
  }

  /** Messages nobody has claimed with an expectation. */
  unclaimed(): SentMessage[] {
    return this.sent().filter((m) => !this.claimed.has(m.raw));
  }

  /** Waits for the first unclaimed message on a channel to an address whose text matches, and claims it. */
  async expect(channel: MessageChannel, to: string, match: Match, opts: { timeoutMs?: number } = {}): Promise<SentMessage> {
    const found = await eventually(async () => this.unclaimed().find((m) => m.channel === channel && m.to === to && matches(m.text, match)), {
      what: `${channel} to ${to} matching ${String(match)} (unclaimed: ${describe(this.unclaimed())})`,
      timeoutMs: opts.timeoutMs ?? 30_000,
    }).catch((err: Error) => {
      throw new Error(`${err.message.split(' not met')[0]} not met; sent but not claimed: ${describe(this.unclaimed())}`);
    });
    this.claimed.add(found.raw);
    return found;
  }

  /** Claims every unclaimed message on a channel to an address that matches; returns them (possibly none). */
  claimAll(channel: MessageChannel, to: string, match: Match = /.*/s): SentMessage[] {
    const found = this.unclaimed().filter((m) => m.channel === channel && m.to === to && matches(m.text, match));
    for (const m of found) this.claimed.add(m.raw);
    return found;
  }

  /**
   * Teardown for each scenario: lets the system settle and fails on any message nobody expected.
   * The messages are claimed either way, so one scenario's surprise is reported once.
   */
  async checkNothingElse(): Promise<void> {
    await this.settle();
    const left = this.unclaimed();
    for (const m of left) this.claimed.add(m.raw);
    if (left.length) throw new Error(`messages nobody expected:\n${left.map((m) => `  ${m.channel} to ${m.to}: ${m.text.split('\n')[0]}`).join('\n')}`);
  }

  // ---- building the world ----------------------------------------------------------------------

  /** A person with contact methods (verified through the phone, as a user would) and notification rules. */
  async person(name: string, opts: PersonOptions = {}): Promise<Person> {
    this.seq += 1;
    const n = this.seq;
    const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${n}-${this.world.id}@example.com`;
    const user = await expectOk(this.oncall.post('/api/v1/users', { name, email }));
    const person = new Person(this, user.id, name, email);
    const methods: Partial<Record<MessageChannel, string>> = {};
    if (opts.sms || opts.voice) person.number = `+1415555${String(1000 + ((n * 37 + Number.parseInt(this.world.id.slice(0, 4), 16)) % 9000)).padStart(4, '0')}`;
    if (opts.push) person.token = `fcm-token-${this.world.id}-${n}`;
    if (opts.sms) methods.sms = await this.phone(person, 'sms');
    if (opts.voice) methods.voice = await this.phone(person, 'voice');
    if (opts.push) {
      const created = await expectOk(this.notifier.post(`/api/v1/users/${person.id}/contact-methods`, { type: 'push', value: person.token, label: 'Phone' }));
      methods.push = created.id;
    }
    const wanted = opts.rules ?? (['push', 'sms', 'voice'] as const).filter((c) => methods[c]).map((c): [MessageChannel, number] => [c, 0]);
    if (wanted.length) {
      const all = await expectOk<{ id: string; type: string }[]>(this.notifier.get(`/api/v1/users/${person.id}/contact-methods`));
      const rules = wanted.map(([channel, delayMinutes]) => {
        const id = methods[channel] ?? all.find((m) => m.type === channel)?.id;
        if (!id) throw new Error(`${name} has no ${channel} contact method for a rule`);
        return { contactMethodId: id, delayMinutes };
      });
      await expectOk(this.notifier.put(`/api/v1/users/${person.id}/notification-rules/high`, { rules }));
    }
    return person;
  }

  private async phone(person: Person, type: 'sms' | 'voice'): Promise<string> {
    const number = person.number!;
    // notifier hears of new users from oncall's directory event; it waits a moment for one it has not heard of yet.
    const created = await expectOk(this.notifier.post(`/api/v1/users/${person.id}/contact-methods`, { type, value: number }));
    const message = await this.expect(type, number, /code/);
    const code = /code is:? ((?:\d,? ?){6})/.exec(message.text)?.[1]?.replace(/\D/g, '');
    if (!code) throw new Error(`no verification code in: ${message.text}`);
    await expectOk(this.notifier.post(`/api/v1/users/${person.id}/contact-methods/${created.id}/verify`, { code }));
    return created.id;
  }

  /** A service with an escalation policy and a PagerDuty Events API v2 integration. */
  async service(name: string, opts: ServiceOptions = {}): Promise<ServiceHandle> {
    this.seq += 1;
    let escalationPolicyId: string | null = null;
    if (opts.steps) {
      const policy = await expectOk(
        this.oncall.post('/api/v1/escalation-policies', {
          name: `${name} policy ${this.seq}`,
          repeatCount: opts.repeatCount ?? 0,
          steps: opts.steps.map((s) => ({ delayMinutes: s.delayMinutes, targets: s.targets.map(target) })),
        }),
      );
      escalationPolicyId = policy.id;
    }
    const service = await expectOk(this.oncall.post('/api/v1/services', { name, escalationPolicyId, ...opts.settings }));
    const integration = await expectOk(this.ingest.post('/api/v1/integrations', { serviceId: service.id, type: 'events-api-v2', name: 'Prometheus' }));
    return new ServiceHandle(this, service.id, name, integration.key, integration.integration.id);
  }

  /** An integration of another kind on a service (alertmanager, heartbeat, ...): its key and id. */
  async integration(serviceId: string, type: string, name: string, extra: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
    const created = await expectOk(this.ingest.post('/api/v1/integrations', { serviceId, type, name, ...extra }));
    return { key: created.key, id: created.integration.id };
  }

  // ---- reading what people would see -----------------------------------------------------------

  async incidentsOf(serviceId: string): Promise<IncidentSeen[]> {
    return await expectOk<IncidentSeen[]>(this.incidents.get(`/api/v1/incidents?serviceId=${serviceId}&limit=100`));
  }

  /** Waits for the service's incident with this title (the newest, when there are several) in a state. */
  async incident(serviceId: string, title: string, status?: IncidentSeen['status']): Promise<IncidentSeen> {
    return eventually(
      async () => {
        const found = (await this.incidentsOf(serviceId)).filter((i) => i.title === title);
        const newest = found.sort((a, b) => b.number - a.number)[0];
        return newest && (!status || newest.status === status) ? newest : undefined;
      },
      { what: `incident "${title}"${status ? ` ${status}` : ''}`, timeoutMs: 30_000 },
    );
  }

  async timeline(incidentId: string): Promise<{ kind: string; details: Record<string, any>; actor: Record<string, any> | null }[]> {
    return expectOk(this.incidents.get(`/api/v1/incidents/${incidentId}/timeline?order=asc`));
  }
}

export interface IncidentSeen {
  id: string;
  number: number;
  title: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  serviceId: string;
  alertCount: number;
  [k: string]: unknown;
}

/** Someone who can be paged, and their devices. */
export class Person {
  number?: string;
  token?: string;

  constructor(
    private readonly sys: PagingSystem,
    readonly id: string,
    readonly name: string,
    readonly email: string,
  ) {}

  async expectSms(match: Match): Promise<Sms> {
    return new Sms(this.sys, await this.sys.expect('sms', this.number!, match));
  }

  async expectCall(match: Match): Promise<Call> {
    return new Call(this.sys, await this.sys.expect('voice', this.number!, match));
  }

  expectPush(match: Match): Promise<SentMessage> {
    return this.sys.expect('push', this.token!, match);
  }

  expectEmail(match: Match): Promise<SentMessage> {
    return this.sys.expect('email', this.email, match);
  }
}

export class Sms {
  constructor(
    private readonly sys: PagingSystem,
    readonly message: SentMessage,
  ) {}

  get text(): string {
    return this.message.text;
  }

  /** Texts back from the same phone; the answer must match `expectAnswer` (Klaxon answers in TwiML). */
  async reply(body: string, expectAnswer?: Match): Promise<string> {
    const res = await this.sys.twilio.sms(`${this.sys.notifierUrl}/api/v1/twilio/sms/inbound`, this.message.to, body);
    if (res.status !== 200) throw new Error(`reply "${body}" answered ${res.status}: ${res.text}`);
    if (expectAnswer && !matches(res.text, expectAnswer)) throw new Error(`reply "${body}" answered ${res.text}, expected ${String(expectAnswer)}`);
    return res.text;
  }
}

export class Call {
  constructor(
    private readonly sys: PagingSystem,
    readonly message: SentMessage,
  ) {}

  get text(): string {
    return this.message.text;
  }

  /** Presses keys during the call; Klaxon's answer (TwiML) must match `expectAnswer`. */
  async press(digits: string, expectAnswer?: Match): Promise<string> {
    const call = this.message.raw as FakeCall;
    const res = await this.sys.twilio.webhook(gatherAction(call.twiml), { CallSid: call.sid, Digits: digits, AccountSid: this.sys.twilio.accountSid });
    if (res.status !== 200) throw new Error(`keypress ${digits} answered ${res.status}: ${res.text}`);
    const said = spokenText(res.text);
    if (expectAnswer && !matches(said, expectAnswer)) throw new Error(`keypress ${digits} answered "${said}", expected ${String(expectAnswer)}`);
    return said;
  }
}

/** A service as a monitoring tool sees it: a routing key to send PagerDuty events to. */
export class ServiceHandle {
  constructor(
    private readonly sys: PagingSystem,
    readonly id: string,
    readonly name: string,
    readonly routingKey: string,
    readonly integrationId: string,
  ) {}

  private async send(action: 'trigger' | 'acknowledge' | 'resolve', dedupKey: string, summary?: string, severity = 'critical'): Promise<{ dedup_key: string }> {
    const body: Record<string, unknown> = { routing_key: this.routingKey, event_action: action, dedup_key: dedupKey };
    if (action === 'trigger') body.payload = { summary: summary ?? `Alert ${dedupKey}`, source: 'scenario', severity };
    const res = await this.sys.ingest.as(null).post('/v2/enqueue', body);
    if (res.status !== 202) throw new Error(`${action} ${dedupKey}: expected 202, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  trigger(dedupKey: string, summary?: string, severity?: string): Promise<{ dedup_key: string }> {
    return this.send('trigger', dedupKey, summary, severity);
  }

  acknowledge(dedupKey: string): Promise<{ dedup_key: string }> {
    return this.send('acknowledge', dedupKey);
  }

  resolve(dedupKey: string): Promise<{ dedup_key: string }> {
    return this.send('resolve', dedupKey);
  }

  /** The alerts alert-ingest holds for a dedup key, newest first. */
  async alerts(dedupKey: string): Promise<{ id: string; status: string; count: number; inMaintenance: boolean }[]> {
    return expectOk(this.sys.ingest.get(`/api/v1/alerts?serviceId=${this.id}&dedupKey=${encodeURIComponent(dedupKey)}`));
  }

  incidents(): Promise<IncidentSeen[]> {
    return this.sys.incidentsOf(this.id);
  }

  incident(title: string, status?: IncidentSeen['status']): Promise<IncidentSeen> {
    return this.sys.incident(this.id, title, status);
  }
}

function target(t: Target | Person): Target {
  return t instanceof Person ? { type: 'user', id: t.id } : t;
}

function spokenText(twiml: string): string {
  return [...twiml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1]!).join(' ');
}

function describe(messages: SentMessage[]): string {
  if (messages.length === 0) return 'none';
  return messages
    .slice(0, 10)
    .map((m) => `${m.channel} to ${m.to}: "${m.text.split('\n')[0]!.slice(0, 80)}"`)
    .join('; ');
}

/** PagingSystem.settle for any world running the four services (benchmarks wait between scenarios with it). */
export async function settleWorld(world: TestWorld, now: () => Date = () => new Date(), timeoutMs = 60_000): Promise<void> {
  await waitUntilQuiet(world, { now, timeoutMs });
}
