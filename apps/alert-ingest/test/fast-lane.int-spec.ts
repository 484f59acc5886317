import { gzipSync } from 'node:zlib';
import { startIngest, waitForEvents, type Ingest } from './helpers.js';

/**
 * The hot intake routes are answered in the fast lane (straight from Node's HTTP server); the
 * same paths spelled in another case are routed by Express to the Nest controllers. A sender must
 * not be able to tell the two apart: same status, same body shape, same stored alert.
 */
describe('alert-ingest fast lane answers exactly as the controllers do', () => {
  let t: Ingest;
  let pdKey: string;
  let ogKey: string;
  let amKey: string;
  let serviceId: string;

  beforeAll(async () => {
    t = await startIngest();
    ({ key: pdKey, serviceId } = await t.integration('events-api-v2'));
    ({ key: ogKey } = await t.integration('opsgenie', undefined, serviceId));
    ({ key: amKey } = await t.integration('alertmanager', undefined, serviceId));
  });
  afterAll(() => t.close());

  const pd = (key: string, dedup: string) => ({
    routing_key: key,
    event_action: 'trigger',
    dedup_key: dedup,
    payload: { summary: `Parity ${dedup}`, source: 'parity', severity: 'error' },
  });
  const am = (fingerprint: string) => ({
    version: '4',
    status: 'firing',
    alerts: [{ status: 'firing', labels: { alertname: 'Parity' }, annotations: {}, startsAt: '2024-05-01T10:00:00Z', fingerprint }],
  });
  /** Request ids and timings differ from call to call; everything else must not. */
  const shape = (body: any) => JSON.parse(JSON.stringify(body, (k, v) => (k === 'requestId' || k === 'took' ? '<varies>' : v)));

  async function both(lane: string, controller: string, body: unknown, headers: Record<string, string> = {}) {
    const [a, b] = [await t.sender.post(lane, body, headers), await t.sender.post(controller, body, headers)];
    return { lane: { status: a.status, body: shape(a.body) }, controller: { status: b.status, body: shape(b.body) }, headers: [a.headers, b.headers] };
  }

  it('PagerDuty Events API v2: accepted, invalid, unknown key', async () => {
    const ok = await both('/v2/enqueue', '/V2/Enqueue', pd(pdKey, 'same-key'));
    expect(ok.lane).toEqual({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'same-key' } });
    expect(ok.controller).toEqual(ok.lane);
    const invalid = await both('/v2/enqueue', '/V2/Enqueue', { ...pd(pdKey, 'x'), event_action: 'explode' });
    expect(invalid.lane.status).toBe(400);
    expect(invalid.lane.body.status).toBe('invalid event');
    expect(invalid.controller).toEqual(invalid.lane);
    const unknown = await both('/v2/enqueue', '/V2/Enqueue', pd('f'.repeat(32), 'x'));
    expect(unknown.lane.status).toBe(403);
    expect(unknown.lane.body.message).toMatch(/routing_key is not valid/);
    expect(unknown.controller).toEqual(unknown.lane);
    // Both answers carry a correlation id.
    for (const h of ok.headers) expect(h.get('x-correlation-id')).toBeTruthy();
    // The two triggers deduplicated into one alert, counted twice.
    const alerts = await t.alerts(serviceId);
    expect(alerts.filter((a) => a.dedupKey === 'same-key').map((a) => a.count)).toEqual([2]);
  });

  it('Opsgenie create and the Alertmanager webhook', async () => {
    const og = await both('/v2/alerts', '/V2/Alerts', { message: 'Parity Opsgenie', alias: 'og-parity' }, { authorization: `GenieKey ${ogKey}` });
    expect(og.lane).toEqual({ status: 202, body: { result: 'Request will be processed', took: '<varies>', requestId: '<varies>' } });
    expect(og.controller).toEqual(og.lane);
    const ogBad = await both('/v2/alerts', '/V2/Alerts', { alias: 'no message' }, { authorization: `GenieKey ${ogKey}` });
    expect(ogBad.lane.status).toBe(400);
    expect(ogBad.controller).toEqual(ogBad.lane);

    const hook = await both(`/integrations/alertmanager/${amKey}`, `/Integrations/Alertmanager/${amKey}`, am('00000000000000aa'));
    expect(hook.lane.status).toBe(202);
    expect(hook.controller.status).toBe(202);
    expect(hook.lane.body).toEqual({ status: 'success', message: '1 alert processed', outcomes: { created: 1 } });
    expect(hook.controller.body).toEqual({ status: 'success', message: '1 alert processed', outcomes: { deduplicated: 1 } });
    const bearer = await both('/integrations/alertmanager', '/Integrations/Alertmanager', am('00000000000000bb'), { authorization: `Bearer ${amKey}` });
    expect([bearer.lane.status, bearer.controller.status]).toEqual([202, 202]);
    const invalid = await both(`/integrations/alertmanager/${amKey}`, `/Integrations/Alertmanager/${amKey}`, { version: '4', alerts: 'none' });
    expect(invalid.lane.status).toBe(400);
    expect(invalid.controller).toEqual(invalid.lane);
  });

  it('refuses oversized and broken bodies like the Express parsers, and leaves other content types to the controllers', async () => {
    const big = await both('/v2/enqueue', '/V2/Enqueue', { ...pd(pdKey, 'big'), pad: 'x'.repeat(600 * 1024) });
    expect(big.lane).toEqual({ status: 413, body: { statusCode: 413, error: 'Payload Too Large', message: 'Request body is larger than 512 KB' } });
    expect(big.controller).toEqual(big.lane);
    const broken = await both('/v2/enqueue', '/V2/Enqueue', '{"routing_key":', { 'content-type': 'application/json' });
    expect(broken.lane.status).toBe(400);
    expect(broken.lane.body.message).toMatch(/^Request body is not valid JSON/);
    expect(broken.controller.status).toBe(400);
    expect(broken.controller.body.message).toMatch(/^Request body is not valid JSON/);
    // A trailing slash is the same route, as it is for Express.
    expect((await t.sender.post('/v2/enqueue/', pd(pdKey, 'slash'))).status).toBe(202);
    // Compressed: the lane steps aside and Express inflates the body, as it always did.
    const gz = await fetch(`${t.svc.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(pd(pdKey, 'gzipped'))),
    });
    expect(gz.status).toBe(202);
    expect(await gz.json()).toMatchObject({ dedup_key: 'gzipped' });
    // Not JSON: the lane steps aside and the controller answers PagerDuty's way.
    const form = await t.sender.post('/v2/enqueue', 'routing_key=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(400);
    expect(form.body.status).toBe('invalid event');
    // Request metrics name the route either way.
    const metrics = await t.admin.get('/metrics');
    expect(metrics.body).toMatch(/klaxon_http_requests_total\{[^}]*route="\/v2\/enqueue"[^}]*status="202"/);
  });

  it("keeps each request's correlation id on its own event, though requests share a commit", async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `corr-${i}`);
    const answers = await Promise.all(
      keys.map((k, i) => t.sender.post(i % 2 ? '/v2/enqueue' : '/V2/Enqueue', pd(pdKey, k), { 'x-correlation-id': `trace-${k}` })),
    );
    expect(answers.map((a) => a.status)).toEqual(keys.map(() => 202));
    expect(answers.map((a) => a.headers.get('x-correlation-id'))).toEqual(keys.map((k) => `trace-${k}`));
    const events = await waitForEvents(
      t.tap,
      (e) => e.type === 'alert.triggered' && String(e.data.dedupKey).startsWith('corr-'),
      keys.length,
      '40 alert.triggered events',
    );
    expect(Object.fromEntries(events.map((e) => [e.data.dedupKey, e.correlationId]))).toEqual(Object.fromEntries(keys.map((k) => [k, `trace-${k}`])));
  });
});
