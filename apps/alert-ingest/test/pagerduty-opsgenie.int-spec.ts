import { randomUUID } from 'node:crypto';
import { eventually } from '#libs/testing';
import { startIngest, type Ingest } from './helpers.js';

const trigger = (key: string, dedup: string | undefined, summary = `Disk full on ${dedup}`) => ({
  routing_key: key,
  event_action: 'trigger',
  ...(dedup ? { dedup_key: dedup } : {}),
  payload: { summary, source: 'db1.example.com', severity: 'critical', component: 'postgres', group: 'db', class: 'disk', custom_details: { free: '1%' } },
  links: [{ href: 'https://grafana.example.com/d/db', text: 'Dashboard' }],
  client: 'Prometheus',
  client_url: 'https://prometheus.example.com',
});

describe('PagerDuty Events API v2 and Opsgenie Alert API: dedup as those products do it', () => {
  let t: Ingest;
  beforeAll(async () => {
    t = await startIngest();
  });
  afterAll(() => t.close());

  it('opens one alert per dedup key, counts repeats, and reports them coalesced', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    const first = await t.sender.post('/v2/enqueue', trigger(key, 'db1-disk'));
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'db1-disk' });
    // A storm of repeats, some concurrent: still one open alert.
    await Promise.all(Array.from({ length: 10 }, () => t.sender.post('/v2/enqueue', trigger(key, 'db1-disk'))));

    const [alert] = await t.alerts(serviceId);
    expect(alert).toMatchObject({
      dedupKey: 'db1-disk',
      status: 'triggered',
      count: 11,
      summary: 'Disk full on db1-disk',
      severity: 'critical',
      component: 'postgres',
      integrationType: 'events-api-v2',
    });
    expect(alert.links).toEqual([{ href: 'https://grafana.example.com/d/db', text: 'Dashboard' }]);
    expect(await t.alerts(serviceId)).toHaveLength(1);

    const [triggered] = await eventually(async () => (t.eventsOf(serviceId, 'alert.triggered').length ? t.eventsOf(serviceId, 'alert.triggered') : undefined), {
      what: 'alert.triggered',
    });
    expect(triggered!.key).toBe(alert.id);
    expect(triggered!.data).toMatchObject({
      alertId: alert.id,
      dedupKey: 'db1-disk',
      summary: 'Disk full on db1-disk',
      inMaintenance: false,
      labels: { source: 'db1.example.com', component: 'postgres' },
    });
    // Repeats are reported once the report interval passes, as one event with the latest count.
    t.clock.advance(6000);
    const dedup = await eventually(async () => t.eventsOf(serviceId, 'alert.deduplicated')[0], { what: 'alert.deduplicated' });
    expect(dedup.data).toMatchObject({ alertId: alert.id, count: 11 });
    await t.quiet();
    expect(t.eventsOf(serviceId, 'alert.triggered')).toHaveLength(1);
    expect(t.eventsOf(serviceId, 'alert.deduplicated')).toHaveLength(1);
    const metrics = (await t.sender.get('/metrics')).body as string;
    expect(metrics).toMatch(/klaxon_ingest_events_total\{type="events-api-v2",outcome="deduplicated"[^}]*\} (1\d|[2-9]\d)/);
    expect(metrics).toContain('klaxon_ingest_batch_requests_bucket');
  });

  it('accepts and ignores acknowledge and resolve for a key with no open alert', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    for (const action of ['resolve', 'acknowledge']) {
      const res = await t.sender.post('/v2/enqueue', { routing_key: key, event_action: action, dedup_key: 'never-seen' });
      expect(res.status).toBe(202);
      expect(res.body.dedup_key).toBe('never-seen');
    }
    expect(await t.alerts(serviceId)).toEqual([]);
  });

  it('acknowledges, keeps deduplicating while acknowledged, resolves, and opens a new alert after resolve', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    await t.sender.post('/v2/enqueue', trigger(key, 'api-5xx'));
    expect((await t.sender.post('/v2/enqueue', { routing_key: key, event_action: 'acknowledge', dedup_key: 'api-5xx' })).status).toBe(202);
    await t.sender.post('/v2/enqueue', trigger(key, 'api-5xx'));
    let [alert] = await t.alerts(serviceId);
    expect(alert).toMatchObject({ status: 'acknowledged', count: 2 });
    await t.sender.post('/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: 'api-5xx' });
    [alert] = await t.alerts(serviceId);
    expect(alert.status).toBe('resolved');
    // The same key again: a new alert, the old one stays resolved.
    await t.sender.post('/v2/enqueue', trigger(key, 'api-5xx'));
    const all = await t.alerts(serviceId);
    expect(all.map((a) => a.status).sort()).toEqual(['resolved', 'triggered']);
    expect(all.find((a) => a.status === 'triggered').id).not.toBe(alert.id);

    const types = await eventually(async () => {
      const seen = t.eventsOf(serviceId).map((e) => e.type);
      return seen.length >= 5 ? seen : undefined;
    });
    // The pending repeat count is reported before the resolution, not after it.
    expect(types).toEqual(['alert.triggered', 'alert.acknowledged', 'alert.deduplicated', 'alert.resolved', 'alert.triggered']);
  });

  it('generates a dedup key for a trigger without one, and the sender resolves with it', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    const res = await t.sender.post('/v2/enqueue', trigger(key, undefined, 'No key given'));
    expect(res.status).toBe(202);
    expect(res.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    await t.sender.post('/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: res.body.dedup_key });
    expect((await t.alerts(serviceId))[0]).toMatchObject({ dedupKey: res.body.dedup_key, status: 'resolved' });
  });

  it('names each bad field in a PagerDuty-shaped 400, and refuses keys without saying whether they exist', async () => {
    const { key, id } = await t.integration('events-api-v2');
    const bad = await t.sender.post('/v2/enqueue', {
      routing_key: key,
      event_action: 'explode',
      payload: { summary: 5, source: 'x', severity: 'bad' },
      colour: 'red',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.status).toBe('invalid event');
    expect(bad.body.message).toBe('Event object is invalid');
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        "'event_action' must be trigger, acknowledge or resolve",
        "'payload.summary' must be a string",
        "'payload.severity' must be one of critical, error, warning, info",
        "Event has unknown field 'colour'",
      ]),
    );
    const noKey = await t.sender.post('/v2/enqueue', { routing_key: 'x'.repeat(32), event_action: 'resolve', dedup_key: 'a' });
    expect(noKey.status).toBe(403);
    await t.admin.post(`/api/v1/integrations/${id}/disable`);
    const disabled = await t.sender.post('/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: 'a' });
    expect(disabled.status).toBe(403);
    // A disabled key and an unknown key get the same answer.
    expect(disabled.body.message).toBe(noKey.body.message);
  });

  it('speaks Events API v1 too, at its own path and on /v2/enqueue (as Alertmanager sends it with a service_key)', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    const v1 = (type: string, extra: Record<string, unknown> = {}) => ({
      service_key: key,
      event_type: type,
      incident_key: 'v1-disk',
      event_action: '',
      payload: null,
      ...extra,
    });
    const res = await t.sender.post(
      '/generic/2010-04-15/create_event.json',
      v1('trigger', { description: 'Disk full (v1)', details: { firing: 'db1' }, client: 'Alertmanager' }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', incident_key: 'v1-disk' });
    await t.sender.post('/v2/enqueue', v1('trigger', { description: 'Disk full (v1)' }));
    expect((await t.alerts(serviceId))[0]).toMatchObject({ dedupKey: 'v1-disk', summary: 'Disk full (v1)', count: 2, severity: 'critical' });
    await t.sender.post('/generic/2010-04-15/create_event.json', v1('resolve'));
    expect((await t.alerts(serviceId))[0].status).toBe('resolved');
    const bad = await t.sender.post('/generic/2010-04-15/create_event.json', { service_key: key, event_type: 'trigger' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(["'description' is required for trigger events"]);
  });

  it('rotates keys (the old one stops at once) and keeps management behind a token with the right role', async () => {
    const { key, id, serviceId } = await t.integration('events-api-v2');
    const rotated = await t.admin.post(`/api/v1/integrations/${id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(/^[0-9a-f]{32}$/);
    expect(rotated.body.integration.keyHint).toBe(`…${rotated.body.key.slice(-4)}`);
    expect(JSON.stringify(await t.admin.get(`/api/v1/integrations?serviceId=${serviceId}`))).not.toContain(rotated.body.key);
    expect((await t.sender.post('/v2/enqueue', trigger(key, 'old-key'))).status).toBe(403);
    expect((await t.sender.post('/v2/enqueue', trigger(rotated.body.key, 'new-key'))).status).toBe(202);

    expect((await t.sender.get('/api/v1/integrations')).status).toBe(401);
    expect((await t.sender.post('/api/v1/integrations', { serviceId, type: 'opsgenie', name: 'x' })).status).toBe(401);
    const unknownType = await t.admin.post('/api/v1/integrations', { serviceId, type: 'nagios', name: 'x' });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.message).toContain('type');
  });

  it('changes nothing when a sender retries with the same Idempotency-Key', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    for (let i = 0; i < 3; i++) expect((await t.sender.post('/v2/enqueue', trigger(key, 'retried'), { 'idempotency-key': 'attempt-1' })).status).toBe(202);
    expect((await t.alerts(serviceId))[0].count).toBe(1);
    const og = await t.integration('opsgenie', undefined, serviceId);
    const genie = { authorization: `GenieKey ${og.key}`, 'idempotency-key': 'og-1' };
    await t.sender.post('/v2/alerts', { message: 'Retried', alias: 'og-retried' }, genie);
    const again = await t.sender.post('/v2/alerts', { message: 'Retried', alias: 'og-retried' }, genie);
    expect((await t.sender.request('GET', `/v2/alerts/requests/${again.body.requestId}`, undefined, genie)).body.data.status).toBe(
      'Request was already processed',
    );
    expect((await t.alerts(serviceId, '&dedupKey=og-retried'))[0].count).toBe(1);
  });

  it('records change events without opening alerts', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    const res = await t.sender.post('/v2/change/enqueue', {
      routing_key: key,
      payload: { summary: 'Deployed checkout v42', source: 'github-actions', timestamp: '2024-05-01T10:00:00.000+0000', custom_details: { sha: 'abc123' } },
      links: [{ href: 'https://github.com/acme/checkout/pull/42', text: 'PR #42' }],
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', message: 'Change event processed' });
    const changes = (await t.admin.get(`/api/v1/change-events?serviceId=${serviceId}`)).body;
    expect(changes).toMatchObject([
      { summary: 'Deployed checkout v42', source: 'github-actions', occurredAt: '2024-05-01T10:00:00.000Z', details: { sha: 'abc123' } },
    ]);
    expect(await t.alerts(serviceId)).toEqual([]);
  });

  it('marks alerts of a service in maintenance and announces the window', async () => {
    const { key, serviceId } = await t.integration('events-api-v2');
    const now = t.clock.now().getTime();
    const win = await t.admin.post('/api/v1/maintenance-windows', {
      serviceIds: [serviceId],
      startsAt: new Date(now - 1000).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      description: 'Postgres upgrade',
    });
    expect(win.status).toBe(201);
    expect(win.body).toMatchObject({ serviceIds: [serviceId], active: true });
    await t.sender.post('/v2/enqueue', trigger(key, 'during-maintenance'));
    expect((await t.alerts(serviceId))[0]).toMatchObject({ dedupKey: 'during-maintenance', inMaintenance: true });
    const ev = await eventually(async () => t.eventsOf(serviceId, 'alert.triggered')[0]);
    expect(ev.data.inMaintenance).toBe(true);
    const announced = await eventually(async () => t.tap.ofType('maintenance.upserted').find((m) => m.json!.data.windowId === win.body.id));
    expect(announced.json!.data).toMatchObject({ serviceIds: [serviceId], description: 'Postgres upgrade' });

    // Ended early: the next alert pages again.
    expect((await t.admin.post(`/api/v1/maintenance-windows/${win.body.id}/end`)).body.active).toBe(false);
    await t.sender.post('/v2/enqueue', trigger(key, 'after-maintenance'));
    expect((await t.alerts(serviceId, '&dedupKey=after-maintenance'))[0].inMaintenance).toBe(false);
    expect((await t.admin.delete(`/api/v1/maintenance-windows/${win.body.id}`)).status).toBe(204);
    await eventually(async () => t.tap.ofType('maintenance.deleted').find((m) => m.json!.data.windowId === win.body.id));
    const bad = await t.admin.post('/api/v1/maintenance-windows', {
      serviceIds: [serviceId],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now - 1).toISOString(),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('endsAt must be after startsAt');
    // A service nobody knows (not in oncall's directory, no integration here) is refused, after a moment's wait for it.
    const nowhere = randomUUID();
    const unknown = await t.admin.post('/api/v1/maintenance-windows', {
      serviceIds: [serviceId, nowhere],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 60_000).toISOString(),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe(`Unknown service: ${nowhere} (services are created in oncall)`);
  });

  it('Opsgenie: creates by alias, deduplicates, reports each request, acknowledges by id and closes by alias', async () => {
    const { key, serviceId } = await t.integration('opsgenie');
    const genie = { authorization: `GenieKey ${key}` };
    const body = {
      message: 'CPU above 90% on web-3',
      alias: 'web-3-cpu',
      description: 'Load average is 14',
      priority: 'P1',
      tags: ['web', 'prod'],
      details: { region: 'eu-west-1' },
      entity: 'web-3',
      source: 'zabbix',
      responders: [{ type: 'team', name: 'Web' }],
      note: 'first seen',
    };
    const created = await t.sender.post('/v2/alerts', body, genie);
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ result: 'Request will be processed', requestId: expect.any(String), took: expect.any(Number) });
    const again = await t.sender.post('/v2/alerts', body, genie);

    const status = await t.sender.request('GET', `/v2/alerts/requests/${created.body.requestId}`, undefined, genie);
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({ success: true, action: 'Create', status: 'Created alert', alias: 'web-3-cpu', alertId: expect.any(String) });
    const dupStatus = await t.sender.request('GET', `/v2/alerts/requests/${again.body.requestId}`, undefined, genie);
    expect(dupStatus.body.data).toMatchObject({ status: 'Alert is deduplicated', alertId: status.body.data.alertId });

    const [alert] = await t.alerts(serviceId);
    expect(alert).toMatchObject({
      id: status.body.data.alertId,
      dedupKey: 'web-3-cpu',
      summary: 'CPU above 90% on web-3',
      severity: 'critical',
      count: 2,
      source: 'zabbix',
    });
    expect(alert.labels).toMatchObject({ region: 'eu-west-1', entity: 'web-3', priority: 'P1', tags: 'web,prod' });

    const ack = await t.sender.post(`/v2/alerts/${alert.id}/acknowledge?identifierType=id`, { user: 'dana' }, genie);
    expect(ack.status).toBe(202);
    expect((await t.alerts(serviceId))[0].status).toBe('acknowledged');
    const got = await t.sender.request('GET', `/v2/alerts/web-3-cpu?identifierType=alias`, undefined, genie);
    expect(got.body.data).toMatchObject({
      id: alert.id,
      alias: 'web-3-cpu',
      status: 'open',
      acknowledged: true,
      count: 2,
      priority: 'P1',
      tags: ['web', 'prod'],
    });

    const close = await t.sender.post('/v2/alerts/web-3-cpu/close?identifierType=alias', { source: 'zabbix' }, genie);
    expect((await t.sender.request('GET', `/v2/alerts/requests/${close.body.requestId}`, undefined, genie)).body.data).toMatchObject({
      action: 'Close',
      status: 'Closed',
      success: true,
    });
    expect((await t.alerts(serviceId))[0].status).toBe('resolved');
    // Closing again: accepted, and the request says why nothing happened.
    const again2 = await t.sender.post('/v2/alerts/web-3-cpu/close?identifierType=alias', {}, genie);
    expect(again2.status).toBe(202);
    expect((await t.sender.request('GET', `/v2/alerts/requests/${again2.body.requestId}`, undefined, genie)).body.data).toMatchObject({
      success: false,
      status: 'Alert does not exist',
    });
  });

  it('Opsgenie: creates without alias are separate alerts; bad input and bad keys get Opsgenie-shaped errors', async () => {
    const { key, serviceId } = await t.integration('opsgenie');
    const genie = { authorization: `GenieKey ${key}` };
    await t.sender.post('/v2/alerts', { message: 'Backup failed' }, genie);
    await t.sender.post('/v2/alerts', { message: 'Backup failed' }, genie);
    const list = await t.alerts(serviceId);
    expect(list).toHaveLength(2);
    expect(list.every((a) => a.severity === 'warning')).toBe(true); // P3, the default

    const bad = await t.sender.post('/v2/alerts', { message: '', priority: 'P9', colour: 'red' }, genie);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^Request has invalid fields: /);
    expect(bad.body.message).toContain('message can not be empty');
    expect(bad.body.message).toContain('priority must be one of P1, P2, P3, P4, P5');
    expect(bad.body.message).toContain('unknown field colour');
    expect(bad.body.requestId).toEqual(expect.any(String));
    expect((await t.sender.post('/v2/alerts', { message: 'x' })).status).toBe(401);
    expect((await t.sender.post('/v2/alerts', { message: 'x' }, { authorization: 'GenieKey 0123456789abcdef0123456789abcdef' })).status).toBe(403);
    // A PagerDuty key is not a GenieKey.
    const pd = await t.integration('events-api-v2');
    const wrong = await t.sender.post('/v2/alerts', { message: 'x' }, { authorization: `GenieKey ${pd.key}` });
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toContain('"events-api-v2" integration');
  });

  it('answers 429 past a configured per-integration rate limit, and nothing before it', async () => {
    const { key, serviceId } = await t.integration('events-api-v2', { rateLimit: { events: 3, perSeconds: 60 } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await t.sender.post('/v2/enqueue', trigger(key, `rl-${i}`))).status);
    expect(codes).toEqual([202, 202, 202, 429, 429]);
    expect(await t.alerts(serviceId)).toHaveLength(3);
  });

  // Last: it moves the clock a week on.
  it('forgets Opsgenie request records after a week, keeping the alerts', async () => {
    const { key, serviceId } = await t.integration('opsgenie');
    const genie = { authorization: `GenieKey ${key}` };
    const created = await t.sender.post('/v2/alerts', { message: 'Old news', alias: 'old' }, genie);
    expect((await t.sender.request('GET', `/v2/alerts/requests/${created.body.requestId}`, undefined, genie)).status).toBe(200);
    t.clock.advance(8 * 86400_000);
    await eventually(async () => (await t.sender.request('GET', `/v2/alerts/requests/${created.body.requestId}`, undefined, genie)).status === 404, {
      what: 'the request record pruned',
    });
    expect(await t.alerts(serviceId)).toHaveLength(1);
  });
});
