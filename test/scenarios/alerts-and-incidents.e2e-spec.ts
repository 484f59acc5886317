import { eventually, expectOk, PagingSystem, type Person, type ServiceHandle } from '#libs/testing';

/**
 * Alerts and incidents stay in step (docs/architecture.md, "the state rule"): however an incident
 * ends, or a maintenance window, the same problem firing again pages once. Each scenario drives the
 * four service processes only through their public APIs, webhooks and the phone, and its teardown
 * fails on any message nobody expected.
 */
describe('scenarios: no recurrence is ever swallowed', () => {
  let sys: PagingSystem;

  beforeAll(async () => {
    sys = await PagingSystem.start();
  });

  afterEach(async () => {
    await sys.checkNothingElse();
  });

  afterAll(async () => {
    await sys?.stop();
  });

  async function world(name: string, settings: Record<string, unknown> = {}): Promise<{ dana: Person; svc: ServiceHandle }> {
    const dana = await sys.person('Dana', { sms: true });
    const svc = await sys.service(name, { steps: [{ delayMinutes: 5, targets: [dana] }], settings });
    return { dana, svc };
  }

  it('an incident resolved by a person (API, then SMS "1c") resolves its alert: the next trigger on the key pages again', async () => {
    const { dana, svc } = await world('Storage');
    await svc.trigger('db1-disk', 'Disk full on db1');
    await dana.expectSms(/Disk full on db1/);
    const first = await svc.incident('Disk full on db1', 'triggered');

    await expectOk(sys.incidents.post(`/api/v1/incidents/${first.id}/resolve`));
    await eventually(async () => (await svc.alerts('db1-disk'))[0]?.status === 'resolved', { what: 'the alert resolved with its incident' });
    // Done with the bootstrap admin token: the timeline says so rather than naming nobody.
    const resolvedBy = (await sys.timeline(first.id)).find((e) => e.kind === 'incident.resolved')?.actor;
    expect(resolvedBy).toEqual({ userId: null, name: 'Administrator (bootstrap token)', source: 'api' });

    // Dana's phone takes one SMS a minute (notifier's default rate limit): the next page goes out a minute on.
    await sys.advanceMinutes(1);
    await svc.trigger('db1-disk', 'Disk full on db1');
    const page = await dana.expectSms(/Disk full on db1/);
    const second = await svc.incident('Disk full on db1', 'triggered');
    expect(second.number).toBeGreaterThan(first.number);
    expect(page.text).toContain(`#${second.number}`);

    // From the phone this time.
    await page.reply('1c', new RegExp(`Resolved #${second.number}`));
    await svc.incident('Disk full on db1', 'resolved');
    await eventually(async () => (await svc.alerts('db1-disk'))[0]?.status === 'resolved', { what: 'the second alert resolved' });
    await sys.advanceMinutes(1);
    await svc.trigger('db1-disk', 'Disk full on db1');
    await dana.expectSms(/Disk full on db1/);
    const third = await svc.incident('Disk full on db1', 'triggered');
    expect(third.number).toBeGreaterThan(second.number);
    expect((await svc.alerts('db1-disk')).map((a) => a.status)).toEqual(['triggered', 'resolved', 'resolved']);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${third.id}/resolve`));
  });

  it('by phone call: 4 acknowledges, 6 resolves, and the alert is freed so the next trigger calls again', async () => {
    const kai = await sys.person('Kai', { voice: true });
    const svc = await sys.service('Ledger', { steps: [{ delayMinutes: 5, targets: [kai] }] });
    await svc.trigger('ledger-lag', 'Ledger replication lag');
    const call = await kai.expectCall(/Ledger replication lag/);
    await call.press('4', /acknowledged/i);
    await svc.incident('Ledger replication lag', 'acknowledged');
    await call.press('6', /resolved/i);
    const first = await svc.incident('Ledger replication lag', 'resolved');
    expect(first.resolvedBy).toMatchObject({ userId: kai.id, source: 'voice' });
    await eventually(async () => (await svc.alerts('ledger-lag'))[0]?.status === 'resolved', { what: 'the alert resolved with its incident' });
    await sys.advanceMinutes(1);
    await svc.trigger('ledger-lag', 'Ledger replication lag');
    await kai.expectCall(/Ledger replication lag/);
    const second = await svc.incident('Ledger replication lag', 'triggered');
    expect(second.number).toBeGreaterThan(first.number);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${second.id}/resolve`));
  });

  it('an incident auto-resolved after inactivity frees its alert: the problem firing again pages once', async () => {
    const { dana, svc } = await world('Queue', { autoResolveTimeoutSeconds: 600 });
    await svc.trigger('queue-depth', 'Queue depth above 10k');
    await dana.expectSms(/Queue depth/);
    await sys.advanceMinutes(11);
    const resolved = await svc.incident('Queue depth above 10k', 'resolved');
    await eventually(async () => (await svc.alerts('queue-depth'))[0]?.status === 'resolved', { what: 'the alert resolved by the timeout' });

    await svc.trigger('queue-depth', 'Queue depth above 10k');
    await dana.expectSms(/Queue depth/);
    const again = await svc.incident('Queue depth above 10k', 'triggered');
    expect(again.number).toBeGreaterThan(resolved.number);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${again.id}/resolve`));
  });

  it('an alert held by a maintenance window pages when the window ends and it still fires; repeats then do not page again', async () => {
    const { dana, svc } = await world('Payments');
    const window = await expectOk(
      sys.ingest.post('/api/v1/maintenance-windows', {
        serviceIds: [svc.id],
        startsAt: sys.now().toISOString(),
        endsAt: new Date(sys.now().getTime() + 30 * 60_000).toISOString(),
        description: 'database upgrade',
      }),
    );
    await svc.trigger('pay-5xx', 'Payments 5xx above 1%');
    expect((await svc.alerts('pay-5xx'))[0]).toMatchObject({ status: 'triggered', inMaintenance: true });
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
    expect(await svc.incidents()).toEqual([]);

    // The window runs out while the problem still fires: it pages now.
    await sys.advanceMinutes(31);
    await dana.expectSms(/Payments 5xx/);
    const incident = await svc.incident('Payments 5xx above 1%', 'triggered');
    expect((await svc.alerts('pay-5xx'))[0]).toMatchObject({ status: 'triggered', inMaintenance: false });
    await svc.trigger('pay-5xx', 'Payments 5xx above 1%');
    await sys.settle();
    expect((await svc.alerts('pay-5xx'))[0]!.count).toBe(2);
    expect((await svc.incidents()).map((i) => i.number)).toEqual([incident.number]);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/resolve`));

    // Ended early: the same.
    const early = await expectOk(
      sys.ingest.post('/api/v1/maintenance-windows', {
        serviceIds: [svc.id],
        startsAt: sys.now().toISOString(),
        endsAt: new Date(sys.now().getTime() + 60 * 60_000).toISOString(),
      }),
    );
    await svc.trigger('pay-latency', 'Payments p99 above 2 s');
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
    await sys.advanceMinutes(1);
    await expectOk(sys.ingest.post(`/api/v1/maintenance-windows/${early.id}/end`));
    await dana.expectSms(/Payments p99/);
    const latency = await svc.incident('Payments p99 above 2 s', 'triggered');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${latency.id}/resolve`));
    expect(window.id).toBeDefined();
  });

  it('Alertmanager: a resolve for a later startsAt of the same fingerprint resolves the alert, and the next firing pages once', async () => {
    const { dana, svc } = await world('Web');
    const am = await sys.integration(svc.id, 'alertmanager', 'Alertmanager');
    const send = async (status: 'firing' | 'resolved', startsAt: string) => {
      const alert = {
        status,
        labels: { alertname: 'HighLatency', instance: 'web-1', severity: 'critical' },
        annotations: { summary: 'High latency on web-1' },
        startsAt,
        endsAt: status === 'resolved' ? new Date(Date.parse(startsAt) + 60_000).toISOString() : '0001-01-01T00:00:00Z',
        fingerprint: 'a1b2c3d4e5f60718',
      };
      const res = await sys.ingest
        .as(null)
        .post(`/integrations/alertmanager/${am.key}`, { version: '4', status, receiver: 'klaxon', groupKey: '{}:{alertname="HighLatency"}', alerts: [alert] });
      expect(res.status).toBe(202);
    };
    const t1 = new Date(sys.now().getTime() - 60_000).toISOString();
    const t2 = sys.now().toISOString();
    await send('firing', t1);
    await dana.expectSms(/High latency on web-1/);
    const first = await svc.incident('High latency on web-1', 'triggered');
    // Prometheus restarted: same fingerprint, new startsAt. Deduplicated into the open alert.
    await send('firing', t2);
    await send('resolved', t2);
    await svc.incident('High latency on web-1', 'resolved');
    expect((await svc.alerts('a1b2c3d4e5f60718')).map((a) => a.status)).toEqual(['resolved']);

    // It fires again later: a new episode, a new incident, one page.
    await sys.advanceMinutes(1);
    await send('firing', sys.now().toISOString());
    await dana.expectSms(/High latency on web-1/);
    const second = await svc.incident('High latency on web-1', 'triggered');
    expect(second.number).toBeGreaterThan(first.number);
    // A late copy of the resolved episode's firing (an HA peer) reopens nothing.
    await send('firing', t2);
    await sys.settle();
    expect((await svc.incidents()).filter((i) => i.status !== 'resolved').map((i) => i.number)).toEqual([second.number]);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${second.id}/resolve`));
  });

  it("Opsgenie: an acknowledge and a close keep the sender's user and note on the incident's timeline", async () => {
    const { dana, svc } = await world('Inventory');
    const genie = await sys.integration(svc.id, 'opsgenie', 'Opsgenie');
    const og = (path: string, body: unknown) => sys.ingest.as(null).post(path, body, { authorization: `GenieKey ${genie.key}` });
    expect((await og('/v2/alerts', { message: 'Stock sync stalled', alias: 'stock-sync', priority: 'P1' })).status).toBe(202);
    await dana.expectSms(/Stock sync stalled/);
    const incident = await svc.incident('Stock sync stalled', 'triggered');
    expect((await og('/v2/alerts/stock-sync/acknowledge?identifierType=alias', { user: 'kim@ops', note: 'looking at the sync job' })).status).toBe(202);
    await svc.incident('Stock sync stalled', 'acknowledged');
    expect((await og('/v2/alerts/stock-sync/close?identifierType=alias', { user: 'kim@ops', note: 'restarted the worker' })).status).toBe(202);
    await svc.incident('Stock sync stalled', 'resolved');
    const timeline = await sys.timeline(incident.id);
    expect(timeline.find((e) => e.kind === 'incident.acknowledged')?.actor).toMatchObject({ name: 'kim@ops', source: 'monitor' });
    expect(timeline.find((e) => e.kind === 'note')).toMatchObject({ details: { text: 'looking at the sync job' }, actor: { name: 'kim@ops' } });
    expect(timeline.find((e) => e.kind === 'alert.resolved')).toMatchObject({ details: { note: 'restarted the worker' }, actor: { name: 'kim@ops' } });
    expect(timeline.find((e) => e.kind === 'incident.resolved')?.actor).toMatchObject({ name: 'kim@ops' });
  });

  it('a person resolves one alert: its incident resolves when it was the last open one, and the key pages again', async () => {
    const { dana, svc } = await world('Search');
    await svc.trigger('search-down', 'Search is down');
    await dana.expectSms(/Search is down/);
    const [alert] = await svc.alerts('search-down');
    const res = await sys.ingest.post(`/api/v1/alerts/${alert!.id}/resolve`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('resolved');
    expect((await sys.ingest.post(`/api/v1/alerts/${alert!.id}/resolve`)).status).toBe(409);
    await sys.advanceMinutes(1);
    const incident = await svc.incident('Search is down', 'resolved');
    const timeline = await sys.timeline(incident.id);
    expect(timeline.find((e) => e.kind === 'alert.resolved')?.actor).toMatchObject({ source: 'api' });
    await svc.trigger('search-down', 'Search is down');
    await dana.expectSms(/Search is down/);
    const again = await svc.incident('Search is down', 'triggered');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${again.id}/resolve`));
  });
});
