import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';

/**
 * A local stand-in for Twilio's REST API that the real twilio SDK talks to (TWILIO_API_URL), and
 * a phone for the test: it records every SMS and call the SDK created, lists them back as Twilio
 * does (for reconciling), can refuse the next requests with Twilio's errors, and plays Twilio's
 * part in the other direction: status callbacks, incoming SMS and keypresses, signed with
 * X-Twilio-Signature exactly as Twilio signs them.
 */
export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback: string;
  createdAt: Date;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
  statusCallback: string;
  machineDetection: string | null;
  createdAt: Date;
}

interface Refusal {
  status: number;
  code: number;
  message: string;
}

export class FakeTwilio {
  readonly accountSid = `AC${randomBytes(16).toString('hex')}`;
  readonly authToken = randomBytes(16).toString('hex');
  readonly from = '+15005550006';
  readonly messages: FakeSms[] = [];
  readonly calls: FakeCall[] = [];
  /** Every REST request, in order, for tests that check what was attempted. */
  readonly requests: { method: string; path: string }[] = [];
  private readonly refusals: Refusal[] = [];
  private server?: http.Server;
  private seq = 0;
  url = '';

  /**
   * `now`: Twilio's clock. In a test world whose notifier runs a clock the test moves, Twilio's
   * must move with it, or a reconcile would compare times from two different worlds (a message
   * dated minutes before the send that made it) and send again.
   */
  constructor(private readonly options: { now?: () => Date } = {}) {}

  /** The environment a notifier needs to send through this fake. */
  env(): Record<string, string> {
    return { TWILIO_ACCOUNT_SID: this.accountSid, TWILIO_AUTH_TOKEN: this.authToken, TWILIO_FROM_NUMBER: this.from, TWILIO_API_URL: this.url };
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        // Listing (what reconciling asks) waits while a test holds it: a Twilio that is slow to answer.
        if (req.method === 'GET') this.listRequests += 1;
        const held = req.method === 'GET' ? this.held.list : undefined;
        if (held) void held.then(() => this.handle(req, body, res));
        else this.handle(req, body, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Requests held until a test releases them: lists (reconciling) or creates (answered late). */
  private readonly held: { list?: Promise<void>; create?: Promise<void> } = {};
  /** How many list requests (reconciling) have arrived, held or not. */
  listRequests = 0;

  /** Holds every list request until the returned function is called. */
  holdLists(): () => void {
    return this.hold('list');
  }

  /**
   * A Twilio that takes the message but is slow to say so: every create is recorded (the message
   * goes out) and answered only when the returned function is called, so a sender's timeout
   * leaves it not knowing whether it sent.
   */
  holdCreates(): () => void {
    return this.hold('create');
  }

  private hold(kind: 'list' | 'create'): () => void {
    let release!: () => void;
    this.held[kind] = new Promise<void>((r) => (release = r));
    return () => {
      this.held[kind] = undefined;
      release();
    };
  }

  private refuseAllWith?: Refusal;

  /** Every create request is refused with this Twilio error until the returned function is called (an outage). */
  refuseAll(refusal: Refusal): () => void {
    this.refuseAllWith = refusal;
    return () => {
      this.refuseAllWith = undefined;
    };
  }

  /** The next `times` create requests are refused with this Twilio error. */
  refuseNext(times: number, refusal: Refusal): void {
    for (let i = 0; i < times; i++) this.refusals.push(refusal);
  }

  smsTo(to: string): FakeSms[] {
    return this.messages.filter((m) => m.to === to);
  }

  callsTo(to: string): FakeCall[] {
    return this.calls.filter((c) => c.to === to);
  }

  // ---- Twilio calling the application ----------------------------------------------------------

  /** Posts a form to the application as Twilio would, signed with the auth token. */
  async webhook(url: string, params: Record<string, string>, opts: { signature?: string | null } = {}): Promise<{ status: number; text: string }> {
    const signature = opts.signature === undefined ? twilio.getExpectedTwilioSignature(this.authToken, url, params) : opts.signature;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, text: await res.text() };
  }

  /** The carrier reports what became of an SMS. */
  messageStatus(sms: FakeSms, status: 'sent' | 'delivered' | 'undelivered' | 'failed', errorCode?: string) {
    return this.webhook(sms.statusCallback, {
      MessageSid: sms.sid,
      MessageStatus: status,
      AccountSid: this.accountSid,
      To: sms.to,
      From: sms.from,
      ...(errorCode ? { ErrorCode: errorCode } : {}),
    });
  }

  /** A call ended: completed (answered), busy, no-answer, failed. */
  callStatus(call: FakeCall, status: 'completed' | 'busy' | 'no-answer' | 'failed', answeredBy?: string) {
    return this.webhook(call.statusCallback, {
      CallSid: call.sid,
      CallStatus: status,
      AccountSid: this.accountSid,
      To: call.to,
      From: call.from,
      ...(answeredBy ? { AnsweredBy: answeredBy } : {}),
    });
  }

  /** The person on the call presses keys: posted to the TwiML's Gather action, as Twilio does. */
  press(call: FakeCall | { twiml: string; sid: string }, digits: string) {
    return this.webhook(gatherAction(call.twiml), { CallSid: call.sid, Digits: digits, AccountSid: this.accountSid });
  }

  /** A phone texts the application's number. */
  sms(inboundUrl: string, from: string, body: string, opts: { signature?: string | null } = {}) {
    return this.webhook(
      inboundUrl,
      { MessageSid: `SM${randomBytes(16).toString('hex')}`, From: from, To: this.from, Body: body, AccountSid: this.accountSid },
      opts,
    );
  }

  // ---- the REST API the SDK calls --------------------------------------------------------------

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? '', path: url.pathname });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected)
      return send(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    const m = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]+)\/(Messages|Calls)\.json$/.exec(url.pathname);
    if (!m || m[1] !== this.accountSid) return send(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    const form = new URLSearchParams(body);
    if (req.method === 'POST') {
      const refusal = this.refusals.shift() ?? this.refuseAllWith;
      if (refusal)
        return send(refusal.status, {
          code: refusal.code,
          message: refusal.message,
          more_info: `https://www.twilio.com/docs/errors/${refusal.code}`,
          status: refusal.status,
        });
      const createdAt = this.options.now?.() ?? new Date();
      const hold = this.held.create;
      const answer = (payload: unknown) => (hold ? void hold.then(() => send(201, payload)) : send(201, payload));
      if (m[2] === 'Messages') {
        const sms: FakeSms = {
          sid: this.sid('SM'),
          to: form.get('To')!,
          from: form.get('From')!,
          body: form.get('Body')!,
          statusCallback: form.get('StatusCallback') ?? '',
          createdAt,
        };
        this.messages.push(sms);
        return answer(this.messageJson(sms));
      }
      const call: FakeCall = {
        sid: this.sid('CA'),
        to: form.get('To')!,
        from: form.get('From')!,
        twiml: form.get('Twiml') ?? '',
        statusCallback: form.get('StatusCallback') ?? '',
        machineDetection: form.get('MachineDetection'),
        createdAt,
      };
      this.calls.push(call);
      return answer(this.callJson(call));
    }
    // GET: newest first, filtered by To and From, as Twilio lists them.
    const to = url.searchParams.get('To');
    const from = url.searchParams.get('From');
    const size = Number(url.searchParams.get('PageSize') ?? 50);
    const pick = <T extends { to: string; from: string }>(list: T[]) =>
      list
        .filter((x) => (!to || x.to === to) && (!from || x.from === from))
        .reverse()
        .slice(0, size);
    const key = m[2] === 'Messages' ? 'messages' : 'calls';
    const records = m[2] === 'Messages' ? pick(this.messages).map((s) => this.messageJson(s)) : pick(this.calls).map((c) => this.callJson(c));
    return send(200, {
      [key]: records,
      uri: url.pathname,
      first_page_uri: url.pathname,
      next_page_uri: null,
      previous_page_uri: null,
      page: 0,
      page_size: size,
      start: 0,
      end: records.length,
    });
  }

  private sid(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.seq.toString(16).padStart(32, '0')}`;
  }

  private messageJson(s: FakeSms) {
    return {
      sid: s.sid,
      account_sid: this.accountSid,
      to: s.to,
      from: s.from,
      body: s.body,
      status: 'queued',
      direction: 'outbound-api',
      num_segments: '1',
      date_created: rfc2822(s.createdAt),
      date_updated: rfc2822(s.createdAt),
      date_sent: null,
      error_code: null,
      error_message: null,
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${s.sid}.json`,
    };
  }

  private callJson(c: FakeCall) {
    return {
      sid: c.sid,
      account_sid: this.accountSid,
      to: c.to,
      from: c.from,
      status: 'queued',
      direction: 'outbound-api',
      date_created: rfc2822(c.createdAt),
      date_updated: rfc2822(c.createdAt),
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${c.sid}.json`,
    };
  }
}

function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** The URL a TwiML document's Gather posts keys to. */
export function gatherAction(twiml: string): string {
  const m = /<Gather[^>]*action="([^"]+)"/.exec(twiml);
  if (!m) throw new Error(`no <Gather action> in ${twiml}`);
  return m[1]!.replace(/&amp;/g, '&');
}

/** What a TwiML document says, in order. */
export function spoken(twiml: string): string[] {
  return [...twiml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1]!);
}
