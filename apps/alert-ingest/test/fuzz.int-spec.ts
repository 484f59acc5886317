import pg from 'pg';
import { eventually } from '#libs/testing';
import { startIngest, type Ingest } from './helpers.js';

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

const WRONG = [null, 0, -1, 1e308, true, [], [1, 'a'], {}, { $gt: '' }, '', 'x'.repeat(5000), '\u0000', '💥'.repeat(300)];

function setPath(obj: any, path: string[], value: unknown): any {
  const copy = structuredClone(obj);
  let cur = copy;
  for (const p of path.slice(0, -1)) cur = cur[p] ??= {};
  if (value === undefined) delete cur[path.at(-1)!];
  else cur[path.at(-1)!] = value;
  return copy;
}

function deep(n: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

describe('fuzz: malformed and hostile payloads at every endpoint', () => {
  let t: Ingest;
  const keys: Record<string, string> = {};
  let serviceId: string;

  beforeAll(async () => {
    t = await startIngest();
    serviceId = crypto.randomUUID();
    for (const [type, config] of [
      ['events-api-v2', undefined],
      ['opsgenie', undefined],
      ['alertmanager', undefined],
      ['grafana', undefined],
      ['webhook', { dedupKeyPath: 'id', summaryPath: 'title', actionPath: 'state' }],
      ['heartbeat', { intervalSeconds: 60 }],
      ['cloudwatch', { topicArns: ['arn:aws:sns:eu-west-1:123456789012:alarms'] }],
    ] as const) {
      keys[type] = (await t.integration(type, config, serviceId)).key;
    }
  });
  afterAll(() => t.close());

  it('answers every malformed request with a 4xx and a message, stays up, and leaves accepted alerts intact', async () => {
    const pd = (dedup: string) => ({
      routing_key: keys['events-api-v2'],
      event_action: 'trigger',
      dedup_key: dedup,
      payload: { summary: `Accepted ${dedup}`, source: 'fuzz', severity: 'error' },
    });
    const am = {
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'Accepted' }, annotations: {}, startsAt: '2024-05-01T10:00:00Z', fingerprint: 'aaaaaaaaaaaaaaaa' }],
    };
    expect((await t.sender.post('/v2/enqueue', pd('kept-1'))).status).toBe(202);
    expect((await t.sender.post('/v2/enqueue', pd('kept-2'))).status).toBe(202);
    expect((await t.sender.post(`/integrations/alertmanager/${keys.alertmanager}`, am)).status).toBe(202);
    const before = await t.alerts(serviceId);
    expect(before).toHaveLength(3);

    const endpoints: { path: string; valid: any; required: string[][]; headers?: Record<string, string>; wrong?: unknown[] }[] = [
      {
        path: '/v2/enqueue',
        valid: pd('fuzz'),
        required: [['routing_key'], ['event_action'], ['payload', 'summary'], ['payload', 'severity'], ['payload', 'source']],
      },
      {
        path: '/v2/change/enqueue',
        valid: { routing_key: keys['events-api-v2'], payload: { summary: 'deploy' } },
        required: [['routing_key'], ['payload'], ['payload', 'summary']],
      },
      { path: '/v2/alerts', valid: { message: 'fuzz' }, required: [['message']], headers: { authorization: `GenieKey ${keys.opsgenie}` } },
      { path: `/integrations/alertmanager/${keys.alertmanager}`, valid: am, required: [['alerts']] },
      { path: `/integrations/grafana/${keys.grafana}`, valid: { ...am, version: '1' }, required: [['alerts']] },
      // Numbers are fine as ids and titles in a generic payload; everything else that is not text is not.
      {
        path: `/integrations/webhook/${keys.webhook}`,
        valid: { id: 'x', title: 'fuzz', state: 'firing' },
        required: [['id'], ['title'], ['state']],
        wrong: [null, true, [], {}, '', ' ', { $gt: '' }],
      },
      { path: `/integrations/cloudwatch/${keys.cloudwatch}`, valid: { Type: 'Notification' }, required: [['MessageId'], ['Signature']] },
    ];
    const r = rng(20240501);
    const answers: { path: string; status: number; message: unknown; sent: string }[] = [];
    const send = async (path: string, body: string, headers: Record<string, string> = {}, method = 'POST') => {
      const res = await t.sender.request(
        method,
        path,
        method === 'GET' ? undefined : body,
        method === 'GET' ? headers : { 'content-type': 'application/json', ...headers },
      );
      const message = res.body?.message ?? res.body?.errors;
      answers.push({ path, status: res.status, message, sent: body.slice(0, 200) });
    };

    for (const e of endpoints) {
      // Structurally broken bodies.
      for (const body of [
        '',
        '{',
        '{"a":',
        'null',
        '42',
        '"text"',
        '[1,2,3]',
        '[]',
        'not json at all',
        '\u0000\u0001',
        '{"__proto__":{"polluted":true}}',
        '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
      ]) {
        await send(e.path, body, e.headers);
      }
      // Each required field missing or of a wrong type, at random.
      for (let i = 0; i < 25; i++) {
        const path = r.pick(e.required);
        const value = r.next() < 0.2 ? undefined : r.pick(e.wrong ?? WRONG);
        await send(e.path, JSON.stringify(setPath(e.valid, path, value)), e.headers);
      }
      // Too large: refused before it is read.
      await send(e.path, JSON.stringify({ ...e.valid, pad: 'x'.repeat(600 * 1024) }), e.headers);
      // The wrong content type.
      await send(e.path, 'routing_key=x&event_action=trigger', { ...e.headers, 'content-type': 'application/x-www-form-urlencoded' });
    }
    // Keys that are not keys.
    for (const bad of ['', 'x', '%00', '..%2f..%2fetc%2fpasswd', "' OR 1=1 --", 'f'.repeat(32), 'F'.repeat(5000)]) {
      await send(`/integrations/alertmanager/${bad}`, JSON.stringify(am));
      await send(`/heartbeats/${bad}`, '', {}, 'GET');
    }
    await send('/v2/alerts/x/close?identifierType=nonsense', '{}', { authorization: `GenieKey ${keys.opsgenie}` });
    await send('/v2/alerts', JSON.stringify({ message: 'x' }), { authorization: 'GenieKey' });
    await send('/v2/enqueue', JSON.stringify({ ...pd('deep'), payload: { ...pd('deep').payload, custom_details: deep(100) } }));
    await send('/api/v1/alerts?limit=abc', '', {}, 'GET');

    const bad = answers.filter(
      (a) =>
        a.status < 400 ||
        a.status >= 500 ||
        a.status === 404 ||
        !(typeof a.message === 'string' || Array.isArray(a.message)) ||
        (typeof a.message === 'string' && a.message.length < 5),
    );
    // Paths that do not exist for a bad key are 404 by routing (e.g. an empty key); everything else names the problem.
    const unexpected = bad.filter((a) => !(a.status === 404 && /\/(alertmanager|heartbeats)\/$/.test(a.path)));
    expect(unexpected).toEqual([]);
    expect(answers.length).toBeGreaterThan(250);
    expect(answers.filter((a) => a.status === 413).length).toBe(endpoints.length);

    expect((await t.sender.get('/health/live')).status).toBe(200);
    const after = await t.alerts(serviceId);
    expect(after).toEqual(before);
  });

  it('stores hostile but valid text exactly (minus NUL characters) and stays correct', async () => {
    const key = keys['events-api-v2'];
    const nasty = ["'; DROP TABLE alerts; --", 'ключ-🔥-\u202e-rtl', 'a\u0000b', '\ud800lone', '<script>alert(1)</script>', '$where', '__proto__'];
    for (const dedup of nasty) {
      const res = await t.sender.post('/v2/enqueue', {
        routing_key: key,
        event_action: 'trigger',
        dedup_key: dedup,
        payload: {
          summary: `Hostile ${dedup}`,
          source: 'fuzz',
          severity: 'info',
          custom_details: { __proto__: { polluted: true }, constructor: { prototype: 'x' }, nul: 'x\u0000y' },
        },
      });
      expect(res.status).toBe(202);
    }
    const stored = await t.alerts(serviceId, '&limit=500');
    const keysStored = stored.map((a) => a.dedupKey);
    for (const k of ["'; DROP TABLE alerts; --", 'ключ-🔥-\u202e-rtl', 'ab', '\ufffdlone', '<script>alert(1)</script>', '$where', '__proto__'])
      expect(keysStored).toContain(k);
    expect(stored.find((a) => a.dedupKey === 'ab').details).toMatchObject({ nul: 'xy' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await t.sender.get('/health/live')).status).toBe(200);
  });
});

describe('overload: 503 with Retry-After so senders retry, and every 202 durable', () => {
  let t: Ingest;
  beforeAll(async () => {
    // A tiny queue makes the overload easy to reach.
    t = await startIngest({ INGEST_MAX_QUEUED: '2', INGEST_WRITERS: '1' });
  });
  afterAll(() => t.close());

  it('refuses what it cannot queue and keeps everything it accepted', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    // The database stalls (another session holds the alerts table): writes wait, the queue fills.
    // Waiting for the refusals, not for time, keeps this independent of how fast the machine is.
    const blocker = new pg.Client({ connectionString: t.world.databaseUrl('alert-ingest') });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alerts IN EXCLUSIVE MODE');
    const settled: number[] = [];
    const pending = Array.from({ length: 60 }, (_, i) =>
      t.sender
        .post('/v2/enqueue', {
          routing_key: key,
          event_action: 'trigger',
          dedup_key: `storm-${i}`,
          payload: { summary: `Storm ${i}`, source: 'x', severity: 'info' },
        })
        .then((a) => (settled.push(a.status), a)),
    );
    // The writer holds one batch and the queue two requests at most: everything else is refused at once.
    await eventually(async () => settled.filter((s) => s === 503).length >= 50, { what: 'the refusals while the database stalls', timeoutMs: 30000 });
    await blocker.query('COMMIT');
    await blocker.end();
    const answers = await Promise.all(pending);
    const accepted = answers
      .filter((a) => a.status === 202)
      .map((a) => a.body.dedup_key)
      .sort();
    const refused = answers.filter((a) => a.status === 503);
    expect(accepted.length + refused.length).toBe(60);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.headers.get('retry-after')).toBe('1');
    expect(refused[0]!.body.message).toMatch(/overloaded .* retry shortly/);
    expect((await t.alerts(serviceId, '&limit=500')).map((a) => a.dedupKey).sort()).toEqual(accepted);
  });
});
