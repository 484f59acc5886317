import { randomUUID } from 'node:crypto';
import { OffsetClock } from '#libs/clock';
import { buildEvent, topicOf, type EventInput, type EventType } from '#libs/contracts';
import {
  eventually,
  FakeFcm,
  FakeTwilio,
  freePort,
  produceRaw,
  SmtpSink,
  TestWorld,
  waitUntilQuiet,
  type Api,
  type FakeCall,
  type FakeSms,
  type KafkaTap,
} from '#libs/testing';
import { notifierService } from '../src/service.js';

/** `eventually` with room for a loaded machine: events go through the outbox relay and Kafka before a tap sees them. */
export function soon<T>(fn: () => Promise<T | undefined | false | null>, opts: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  return eventually(fn, { timeoutMs: 30000, ...opts });
}

let incidentNumber = 100;

/**
 * A notifier in this process, with its clock, a fake Twilio and a fake FCM that the real SDKs talk
 * to, and a tap on what it publishes: the world GoAlert's smoke tests would build, in words a test
 * can use ("a user with these contact methods", "page them", "expect an SMS", "reply 1a").
 */
export class NotifierHarness {
  readonly world = new TestWorld();
  readonly clock = new OffsetClock();
  readonly twilio = new FakeTwilio({ now: () => this.clock.now() });
  readonly fcm = new FakeFcm();
  readonly smtp = new SmtpSink();
  api!: Api;
  url = '';
  tap!: KafkaTap;

  /** Real providers against local fakes by default; `false` leaves a channel in capture mode. */
  async start(env: Record<string, string> = {}, opts: { twilio?: boolean; fcm?: boolean; smtp?: boolean } = {}): Promise<this> {
    await Promise.all([this.twilio.start(), this.fcm.start(), this.smtp.start()]);
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const notifier = await this.world.start(notifierService, {
      clock: this.clock,
      env: {
        PORT: String(port),
        PUBLIC_URL: this.url,
        SEND_DEADLINE_SECONDS: '5',
        ...(opts.twilio === false ? {} : this.twilio.env()),
        ...(opts.fcm === false ? {} : this.fcm.env()),
        ...(opts.smtp === false ? {} : { SMTP_URL: this.smtp.url, EMAIL_FROM: 'Klaxon <pager@klaxon.test>' }),
        ...env,
      },
    });
    this.api = notifier.api;
    this.tap = await this.world.tap('notifications');
    return this;
  }

  async stop(): Promise<void> {
    await this.world.close();
    await Promise.all([this.twilio.stop(), this.fcm.stop(), this.smtp.stop()]);
  }

  async publish<T extends EventType>(type: T, key: string, data: EventInput<T>): Promise<void> {
    const e = buildEvent(type, key, data, { producer: 'test', correlationId: randomUUID(), occurredAt: this.clock.now() });
    await produceRaw(this.world.infra.brokers, topicOf(type, this.world.prefix), [{ key, value: JSON.stringify(e) }]);
  }

  /** A user as oncall announces them; resolves once notifier knows them. */
  async user(name = 'Dana'): Promise<{ id: string; name: string; email: string }> {
    const id = randomUUID();
    const email = `${name.toLowerCase()}-${id.slice(0, 6)}@example.com`;
    await this.publish('user.upserted', id, { userId: id, name, email, timeZone: 'Europe/Berlin', role: 'responder' });
    await eventually(async () => (await this.api.get(`/api/v1/users/${id}/contact-methods`)).status === 200, { what: `user ${name} known to notifier` });
    return { id, name, email };
  }

  /** Adds a phone contact method and verifies it with the code that arrives (by SMS or read out in a call). */
  async phone(userId: string, type: 'sms' | 'voice', number: string): Promise<string> {
    const created = await this.api.post(`/api/v1/users/${userId}/contact-methods`, { type, value: number });
    if (created.status !== 201) throw new Error(`adding ${type} ${number}: ${created.status} ${JSON.stringify(created.body)}`);
    const code = await eventually(
      async () => {
        const texts = type === 'sms' ? this.twilio.smsTo(number).map((s) => s.body) : this.twilio.callsTo(number).map((c) => c.twiml);
        const m = texts.map((t) => /code is:? ((?:\d,? ?){6})/.exec(t)).find(Boolean);
        return m ? m[1]!.replace(/\D/g, '') : undefined;
      },
      { what: `the verification code for ${number}` },
    );
    const verified = await this.api.post(`/api/v1/users/${userId}/contact-methods/${created.body.id}/verify`, { code });
    if (verified.status !== 200) throw new Error(`verifying ${number}: ${verified.status} ${JSON.stringify(verified.body)}`);
    return created.body.id;
  }

  async push(userId: string, token: string): Promise<string> {
    const created = await this.api.post(`/api/v1/users/${userId}/contact-methods`, { type: 'push', value: token, label: 'Pixel' });
    if (created.status !== 201) throw new Error(`adding push: ${created.status} ${JSON.stringify(created.body)}`);
    return created.body.id;
  }

  async rules(userId: string, urgency: 'high' | 'low', rules: { contactMethodId: string; delayMinutes: number }[]): Promise<void> {
    const res = await this.api.put(`/api/v1/users/${userId}/notification-rules/${urgency}`, { rules });
    if (res.status !== 200) throw new Error(`rules: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** oncall pages a user for a new incident. */
  async page(
    user: { id: string; name: string; email: string },
    opts: { title?: string; urgency?: 'high' | 'low'; incidentId?: string; number?: number; serviceName?: string } = {},
  ) {
    const incidentId = opts.incidentId ?? randomUUID();
    const number = opts.number ?? ++incidentNumber;
    const title = opts.title ?? `Disk full on db${number}`;
    await this.publish('page.requested', incidentId, {
      pageId: `${incidentId}:0:0:0:${user.id}`,
      incidentId,
      incidentNumber: number,
      serviceId: randomUUID(),
      serviceName: opts.serviceName ?? 'Checkout API',
      title,
      urgency: opts.urgency ?? 'high',
      userId: user.id,
      userName: user.name,
      userEmail: user.email,
      step: 0,
      loop: 0,
      requestedAt: this.clock.now().toISOString(),
    });
    return { incidentId, number, title };
  }

  /** incidents announces the incident acknowledged (by someone, from somewhere). */
  async acknowledged(incident: { incidentId: string; number: number }, by: { userId: string | null; name: string | null }) {
    await this.publish('incident.acknowledged', incident.incidentId, {
      incidentId: incident.incidentId,
      number: incident.number,
      serviceId: randomUUID(),
      by: { ...by, source: 'api' },
      acknowledgedAt: this.clock.now().toISOString(),
    });
  }

  /** Waits for the next SMS to a number whose body matches. */
  sms(to: string, match: RegExp | string, what?: string): Promise<FakeSms> {
    return soon(async () => this.twilio.smsTo(to).find((s) => (typeof match === 'string' ? s.body.includes(match) : match.test(s.body))), {
      what: what ?? `an SMS to ${to} matching ${match}`,
    });
  }

  call(to: string, nth = 1): Promise<FakeCall> {
    return soon(async () => this.twilio.callsTo(to).filter((c) => !/verification code/.test(c.twiml))[nth - 1], { what: `call #${nth} to ${to}` });
  }

  pageSms(to: string): FakeSms[] {
    return this.twilio.smsTo(to).filter((s) => s.body.startsWith('Klaxon'));
  }

  get inboundSmsUrl(): string {
    return `${this.url}/api/v1/twilio/sms/inbound`;
  }

  events(type: string, filter: (data: Record<string, any>) => boolean = () => true): Record<string, any>[] {
    return this.tap
      .ofType(type)
      .map((m) => m.json!.data)
      .filter(filter);
  }

  /**
   * Waits until notifier has handled everything so far (every event read, no notification being
   * sent or due by the test clock, no timer due, every event published) and the tap has read it,
   * so a test can assert that something was not sent or did not happen.
   */
  quiet(): Promise<void> {
    return waitUntilQuiet(this.world, { services: ['notifier'], now: () => this.clock.now(), taps: [this.tap] });
  }

  advance(ms: number): void {
    this.clock.advance(ms);
  }
}

/** A fresh, valid-looking US mobile number per call (555-01xx is reserved for fiction). */
let numberSeq = 0;
export function newNumber(): string {
  numberSeq += 1;
  return `+1415555${String(100 + (numberSeq % 9900)).padStart(4, '0')}`;
}
