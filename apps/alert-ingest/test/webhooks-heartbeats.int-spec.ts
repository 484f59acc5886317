import { createHmac } from 'node:crypto';
import { eventually } from '#libs/testing';
import { startIngest, type Ingest } from './helpers.js';

/** An Alertmanager webhook message (version 4) as Alertmanager 0.25 sends it. */
function amMessage(
  status: 'firing' | 'resolved',
  alerts: { name: string; instance: string; fingerprint: string; startsAt: string; status?: 'firing' | 'resolved' }[],
) {
  return {
    receiver: 'klaxon',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: { alertname: a.name, instance: a.instance, job: 'node', severity: 'warning' },
      annotations: { summary: `${a.name} on ${a.instance}`, description: 'Disk is filling up' },
      startsAt: a.startsAt,
      endsAt: (a.status ?? status) === 'resolved' ? '2024-05-01T10:05:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
      fingerprint: a.fingerprint,
    })),
    groupLabels: { alertname: alerts[0]!.name },
    commonLabels: { job: 'node' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="DiskFull"}',
    truncatedAlerts: 0,
    // Fields newer Alertmanagers add are accepted.
    notification_reason: 'new',
  };
}

describe('Alertmanager, Grafana and generic webhooks; heartbeats', () => {
  let t: Ingest;
  beforeAll(async () => {
    t = await startIngest();
  });
  afterAll(() => t.close());

  it('Alertmanager: one alert per fingerprint, HA duplicates change nothing, resolved resolves, a late firing does not reopen', async () => {
    const { key, serviceId } = await t.integration('alertmanager');
    const a = { name: 'DiskFull', instance: 'db1:9100', fingerprint: 'a1b2c3d4e5f60718', startsAt: '2024-05-01T10:00:00Z' };
    const b = { name: 'DiskFull', instance: 'db2:9100', fingerprint: '0f1e2d3c4b5a6978', startsAt: '2024-05-01T10:00:30Z' };
    const res = await t.sender.post(`/integrations/alertmanager/${key}`, amMessage('firing', [a, b]));
    expect(res.status).toBe(202);
    expect(res.body.outcomes).toEqual({ created: 2 });
    // The HA peer sends the same notification: deduplicated, with the key in a Bearer header this time.
    const peer = await t.sender.post('/integrations/alertmanager', amMessage('firing', [a, b]), { authorization: `Bearer ${key}` });
    expect(peer.body.outcomes).toEqual({ deduplicated: 2 });

    const open = await t.alerts(serviceId, '&status=open');
    expect(open.map((x) => x.dedupKey).sort()).toEqual([b.fingerprint, a.fingerprint].sort());
    const first = open.find((x) => x.dedupKey === a.fingerprint);
    expect(first).toMatchObject({ summary: 'DiskFull on db1:9100', severity: 'warning', source: 'db1:9100', count: 2, class: 'DiskFull' });
    expect(first.labels).toMatchObject({ alertname: 'DiskFull', instance: 'db1:9100', alertmanager_group_key: '{}:{alertname="DiskFull"}' });
    expect(first.links).toEqual([{ href: 'http://prometheus:9090/graph?g0.expr=up', text: 'Source' }]);

    const resolved = await t.sender.post(`/integrations/alertmanager/${key}`, amMessage('resolved', [{ ...a, status: 'resolved' }]));
    expect(resolved.body.outcomes).toEqual({ resolved: 1 });
    // A lagging peer still sends the old "firing": same episode (startsAt), so it stays resolved.
    const late = await t.sender.post(`/integrations/alertmanager/${key}`, amMessage('firing', [a]));
    expect(late.body.outcomes).toEqual({ ignored: 1 });
    expect((await t.alerts(serviceId, `&dedupKey=${a.fingerprint}`)).map((x) => x.status)).toEqual(['resolved']);
    // A new episode of the same alert opens a new one.
    const again = await t.sender.post(`/integrations/alertmanager/${key}`, amMessage('firing', [{ ...a, startsAt: '2024-05-01T11:00:00Z' }]));
    expect(again.body.outcomes).toEqual({ created: 1 });
    const triggered = await eventually(async () =>
      t.eventsOf(serviceId, 'alert.triggered').length === 3 ? t.eventsOf(serviceId, 'alert.triggered') : undefined,
    );
    expect(triggered[0]!.data.labels).toMatchObject({ alertname: 'DiskFull' });

    const bad = await t.sender.post(`/integrations/alertmanager/${key}`, { version: '4', alerts: [{ status: 'burning', labels: { a: 1 } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('\'alerts.0.status\': must be "firing" or "resolved"');
    expect(bad.body.message).toContain("'alerts.0.labels.a': must be a string");
  });

  it('Grafana: checks the HMAC signature when a secret is set', async () => {
    const secret = 'grafana-signing-secret';
    const { key, serviceId, id } = await t.integration('grafana', { hmacSecret: secret });
    const message = {
      receiver: 'klaxon',
      status: 'firing',
      orgId: 1,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighLatency', grafana_folder: 'API', severity: 'critical' },
          annotations: { summary: 'p99 latency above 2s' },
          startsAt: '2024-05-01T10:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'https://grafana.example.com/alerting/grafana/abc/view',
          fingerprint: '57c6d9296de2ad39',
          silenceURL: 'https://grafana.example.com/alerting/silence/new',
          dashboardURL: 'https://grafana.example.com/d/api',
          panelURL: 'https://grafana.example.com/d/api?viewPanel=2',
          values: { B: 2.4 },
          valueString: "[ var='B' labels={} value=2.4 ]",
        },
      ],
      groupLabels: { alertname: 'HighLatency' },
      commonLabels: { alertname: 'HighLatency' },
      commonAnnotations: {},
      externalURL: 'https://grafana.example.com/',
      version: '1',
      groupKey: '{}:{alertname="HighLatency"}',
      truncatedAlerts: 0,
      title: '[FIRING:1] HighLatency API',
      state: 'alerting',
      message: '**Firing**',
    };
    const raw = JSON.stringify(message);
    const sign = (body: string) => createHmac('sha256', secret).update(body).digest('hex');
    const unsigned = await t.sender.post(`/integrations/grafana/${key}`, raw, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.message).toContain('not signed');
    const forged = await t.sender.post(`/integrations/grafana/${key}`, raw, {
      'content-type': 'application/json',
      'x-grafana-alerting-signature': sign(raw + ' '),
    });
    expect(forged.status).toBe(403);
    expect(await t.alerts(serviceId)).toEqual([]);
    const ok = await t.sender.post(`/integrations/grafana/${key}`, raw, { 'content-type': 'application/json', 'x-grafana-alerting-signature': sign(raw) });
    expect(ok.status).toBe(202);
    const [alert] = await t.alerts(serviceId);
    expect(alert).toMatchObject({ dedupKey: '57c6d9296de2ad39', summary: 'p99 latency above 2s', severity: 'critical' });
    expect(alert.links.map((l: { text: string }) => l.text)).toEqual(['Alert rule', 'Dashboard', 'Panel', 'Silence']);
    // The secret is never shown back.
    expect((await t.admin.get(`/api/v1/integrations/${id}`)).body.config).toEqual({ hmacSecret: '(set)' });
  });

  it('Grafana: with a signed timestamp, a replayed request is not taken twice, and one too old is refused', async () => {
    const secret = 'grafana-signing-secret-2';
    const { key, serviceId } = await t.integration('grafana', { hmacSecret: secret, hmacTimestampHeader: 'X-Grafana-Alerting-Signature-Timestamp' });
    const alert = (status: string) => ({
      status,
      labels: { alertname: 'DiskFull' },
      annotations: { summary: 'disk full' },
      startsAt: '2024-05-01T10:00:00Z',
      fingerprint: 'f00d',
    });
    const raw = (status: string) => JSON.stringify({ receiver: 'klaxon', status, alerts: [alert(status)], groupLabels: {}, commonLabels: {}, version: '1' });
    const send = (body: string, ts: number) =>
      t.sender.post(`/integrations/grafana/${key}`, body, {
        'content-type': 'application/json',
        'x-grafana-alerting-signature-timestamp': String(ts),
        'x-grafana-alerting-signature': createHmac('sha256', secret).update(`${ts}:${body}`).digest('hex'),
      });
    const now = Math.floor(Date.now() / 1000);
    const first = await send(raw('firing'), now);
    expect(first.status).toBe(202);
    const replay = await send(raw('firing'), now);
    expect(replay.status).toBe(202);
    expect(replay.body.message).toBe('Already processed (the same signed delivery)');
    expect((await t.alerts(serviceId)).map((a: { count: number }) => a.count)).toEqual([1]);
    // The resolve, a new delivery, is taken; a replay of it, or a request signed 10 minutes ago, is not.
    expect((await send(raw('resolved'), now + 1)).status).toBe(202);
    expect((await send(raw('resolved'), now + 1)).body.message).toBe('Already processed (the same signed delivery)');
    const stale = await send(raw('firing'), now - 600);
    expect(stale.status).toBe(403);
    expect(stale.body.message).toContain('more than 5 minutes away from now');
    expect((await t.alerts(serviceId)).map((a: { status: string; count: number }) => [a.status, a.count])).toEqual([['resolved', 1]]);
  });

  it('generic webhook: dedup key, action, severity and summary come from configured paths', async () => {
    const { key, serviceId } = await t.integration('webhook', {
      dedupKeyPath: 'check.id',
      actionPath: 'state',
      severityPath: 'check.level',
      summaryPath: 'check.title',
      sourcePath: 'host.name',
      labelPaths: { team: 'owner.team', region: 'tags[0]' },
    });
    const event = (state: string, level = 'high') => ({
      state,
      check: { id: 'chk-42', level, title: 'Checkout is down' },
      host: { name: 'web-1' },
      owner: { team: 'payments' },
      tags: ['eu-west'],
    });
    expect((await t.sender.post(`/integrations/webhook/${key}`, event('DOWN'))).status).toBe(202);
    await t.sender.post(`/integrations/webhook/${key}`, event('down'));
    let [alert] = await t.alerts(serviceId);
    expect(alert).toMatchObject({
      dedupKey: 'chk-42',
      summary: 'Checkout is down',
      severity: 'error',
      source: 'web-1',
      count: 2,
      labels: { team: 'payments', region: 'eu-west' },
    });
    await t.sender.post(`/integrations/webhook/${key}`, event('UP'));
    [alert] = await t.alerts(serviceId);
    expect(alert.status).toBe('resolved');

    const unknown = await t.sender.post(`/integrations/webhook/${key}`, event('sideways'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('field "state" is "sideways", which is none of the trigger');
    const missing = await t.sender.post(`/integrations/webhook/${key}`, { state: 'down' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('field "check.title" (the summary, config.summaryPath) is missing');
  });

  it('generic webhook: without a dedup path, the hash of the configured fields; a delivery id makes a retry change nothing', async () => {
    const { key, serviceId } = await t.integration('webhook', { summaryPath: 'title', dedupFields: ['title', 'host'] });
    const send = (title: string, host: string, id?: string) =>
      t.sender.post(`/integrations/webhook/${key}`, [{ title, host }], id ? { 'idempotency-key': id } : {});
    await send('Queue backed up', 'mq-1', 'd-1');
    await send('Queue backed up', 'mq-1', 'd-1');
    await send('Queue backed up', 'mq-1', 'd-2');
    await send('Queue backed up', 'mq-2');
    const list = await t.alerts(serviceId);
    expect(list).toHaveLength(2);
    expect(list.find((a) => a.details.host === 'mq-1').count).toBe(2);
    expect(list[0].dedupKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('heartbeats: a missed interval opens an alert, the next ping resolves it', async () => {
    const serviceId = crypto.randomUUID();
    const hb = await t.integration('heartbeat', { intervalSeconds: 60 }, serviceId, 'nightly-backup');
    const og = await t.integration('opsgenie', undefined, serviceId);
    let [state] = (await t.admin.get(`/api/v1/heartbeats?serviceId=${serviceId}`)).body;
    expect(state).toMatchObject({ name: 'nightly-backup', status: 'waiting', intervalSeconds: 60 });

    // Waiting for the first ping: no alert however long it takes.
    t.clock.advance(120_000);
    expect((await t.sender.get(`/heartbeats/${hb.key}`)).body).toEqual({ result: 'PONG - Heartbeat received' });
    [state] = (await t.admin.get(`/api/v1/heartbeats?serviceId=${serviceId}`)).body;
    expect(state.status).toBe('up');
    t.clock.advance(30_000);
    // Opsgenie-style ping, by name, keeps it alive.
    const og1 = await t.sender.post('/v2/heartbeats/nightly-backup/ping', undefined, { authorization: `GenieKey ${og.key}` });
    expect(og1.body.result).toBe('PONG - Heartbeat received');
    t.clock.advance(45_000);
    expect(await t.alerts(serviceId)).toEqual([]);

    t.clock.advance(30_000);
    const [alert] = await eventually(
      async () => {
        const list = await t.alerts(serviceId);
        return list.length ? list : undefined;
      },
      { what: 'the heartbeat alert' },
    );
    expect(alert).toMatchObject({ summary: 'nightly-backup is expired', status: 'triggered', severity: 'critical', integrationType: 'heartbeat' });
    expect((await t.admin.get(`/api/v1/heartbeats?serviceId=${serviceId}`)).body[0].status).toBe('expired');

    await t.sender.post(`/heartbeats/${hb.key}`);
    expect((await t.alerts(serviceId))[0].status).toBe('resolved');
    const types = await eventually(async () => {
      const seen = t.eventsOf(serviceId).map((e) => e.type);
      return seen.length >= 2 ? seen : undefined;
    });
    expect(types).toEqual(['alert.triggered', 'alert.resolved']);

    // Disabled, a heartbeat cannot expire however long it stays silent.
    await t.sender.get(`/heartbeats/${hb.key}`);
    expect((await t.admin.post(`/api/v1/integrations/${hb.id}/disable`)).body.enabled).toBe(false);
    t.clock.advance(3600_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await t.alerts(serviceId)).map((a) => a.status)).toEqual(['resolved']);
    expect((await t.sender.get(`/heartbeats/${hb.key}`)).status).toBe(403);

    expect((await t.sender.post('/v2/heartbeats/no-such/ping', undefined, { authorization: `GenieKey ${og.key}` })).status).toBe(404);
    expect((await t.sender.get('/heartbeats/0123456789abcdef0123456789abcdef')).status).toBe(403);
    const dup = await t.admin.post('/api/v1/integrations', { serviceId, type: 'heartbeat', name: 'nightly-backup', config: { intervalSeconds: 60 } });
    expect(dup.status).toBe(409);
    const noInterval = await t.admin.post('/api/v1/integrations', { serviceId, type: 'heartbeat', name: 'other' });
    expect(noInterval.status).toBe(400);
    expect(noInterval.body.message).toContain('config.intervalSeconds');
  });
});
