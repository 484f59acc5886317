import { eventually, expectOk, PagingSystem } from '#libs/testing';

/**
 * What an on-call person lives through, end to end across the four service processes: who is
 * paged, by which channel, when, and what stops it. Every scenario's teardown fails on a message
 * nobody expected, so each also proves that nobody else was paged.
 */
describe('scenarios: paging', () => {
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

  it('pages by push at once and by SMS after the rule delay; "1a" acknowledges, nothing more goes out; the monitor resolves it', async () => {
    const dana = await sys.person('Dana', {
      sms: true,
      push: true,
      rules: [
        ['push', 0],
        ['sms', 1],
      ],
    });
    const svc = await sys.service('Checkout API', { steps: [{ delayMinutes: 10, targets: [dana] }] });
    await svc.trigger('cpu', 'CPU above 95% on web-3');
    await dana.expectPush(/CPU above 95% on web-3/);
    const incident = await svc.incident('CPU above 95% on web-3', 'triggered');

    await sys.advanceMinutes(1);
    const sms = await dana.expectSms(/CPU above 95% on web-3/);
    await sms.reply('1a', new RegExp(`Acknowledged #${incident.number}`));
    const acked = await svc.incident('CPU above 95% on web-3', 'acknowledged');
    expect(acked.acknowledgedBy).toMatchObject({ userId: dana.id, source: 'sms' });

    // Past the step's delay: acknowledged incidents do not escalate or repeat.
    await sys.advanceMinutes(15);
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);

    await svc.resolve('cpu');
    await svc.incident('CPU above 95% on web-3', 'resolved');
  });

  it('nobody acknowledges: step 2 at its delay, the policy repeats once as configured, then stops', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const lee = await sys.person('Lee', { sms: true });
    const svc = await sys.service('Billing', {
      steps: [
        { delayMinutes: 5, targets: [dana] },
        { delayMinutes: 5, targets: [lee] },
      ],
      repeatCount: 1,
    });
    await svc.trigger('invoices', 'Invoice run failed');
    await dana.expectSms(/Invoice run failed/);
    await sys.advanceMinutes(4);
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
    await sys.advanceMinutes(1);
    await lee.expectSms(/Invoice run failed/);
    await sys.advanceMinutes(5);
    await dana.expectSms(/Invoice run failed/);
    await sys.advanceMinutes(5);
    await lee.expectSms(/Invoice run failed/);
    // Repeated once: nothing more, however long nobody answers.
    await sys.advanceMinutes(30);
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
    const incident = await svc.incident('Invoice run failed', 'triggered');
    const steps = (await sys.timeline(incident.id)).filter((e) => e.kind === 'escalation.step-fired').map((e) => e.details.names);
    expect(steps).toEqual([['Dana'], ['Lee'], ['Dana'], ['Lee']]);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/resolve`));
  });

  it('an active override is paged instead of the rotation; after it ends, the rotation is', async () => {
    const rota = await sys.person('Rota', { sms: true });
    const cover = await sys.person('Cover', { sms: true });
    const schedule = await expectOk(
      sys.oncall.post('/api/v1/schedules', {
        name: 'Platform primary',
        timeZone: 'UTC',
        layers: [{ name: 'weekly', participants: [rota.id], turn: { unit: 'weeks', count: 1 }, startDate: '2026-01-05' }],
      }),
    );
    const start = sys.now();
    await expectOk(
      sys.oncall.post(`/api/v1/schedules/${schedule.id}/overrides`, {
        userId: cover.id,
        start: new Date(start.getTime() - 60_000).toISOString(),
        end: new Date(start.getTime() + 60 * 60_000).toISOString(),
      }),
    );
    const svc = await sys.service('Platform', { steps: [{ delayMinutes: 5, targets: [{ type: 'schedule', id: schedule.id }] }] });
    await svc.trigger('etcd', 'etcd leader changes');
    await cover.expectSms(/etcd leader changes/);
    const first = await svc.incident('etcd leader changes', 'triggered');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${first.id}/resolve`));

    await sys.advanceMinutes(61);
    await svc.trigger('etcd', 'etcd leader changes');
    await rota.expectSms(/etcd leader changes/);
    const second = await svc.incident('etcd leader changes', 'triggered');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${second.id}/resolve`));
  });

  it('the monitor resolves before anyone acknowledges: the delayed SMS is cancelled', async () => {
    const dana = await sys.person('Dana', {
      sms: true,
      push: true,
      rules: [
        ['push', 0],
        ['sms', 5],
      ],
    });
    const svc = await sys.service('Auth', { steps: [{ delayMinutes: 10, targets: [dana] }] });
    await svc.trigger('login-errors', 'Login errors above 5%');
    await dana.expectPush(/Login errors above 5%/);
    await svc.resolve('login-errors');
    const resolved = await svc.incident('Login errors above 5%', 'resolved');
    // A P1 flap that is not a major incident leaves no draft review behind (the service's default).
    expect(resolved.priority).toBe('P1');
    expect((await sys.incidents.get(`/api/v1/incidents/${resolved.id}/review`)).status).toBe(404);
    await sys.advanceMinutes(20);
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
  });

  it('1,000 alerts over 50 dedup keys for one person: 50 incidents and a bundled, rate-limited stream of messages, not 1,000', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const svc = await sys.service('Fleet', { steps: [{ delayMinutes: 30, targets: [dana] }] });
    const keys = Array.from({ length: 50 }, (_, i) => `node-${i}`);
    for (let round = 0; round < 20; round++) {
      await Promise.all(keys.map((k) => svc.trigger(k, `Node ${k} unreachable`)));
    }
    await eventually(async () => (await svc.incidents()).length === 50, { what: '50 incidents', timeoutMs: 60_000 });
    await sys.settle();
    const alerts = await expectOk(sys.ingest.get(`/api/v1/alerts?serviceId=${svc.id}&limit=500`));
    expect(alerts).toHaveLength(50);
    expect(alerts.reduce((n: number, a: { count: number }) => n + a.count, 0)).toBe(1000);

    // One SMS a minute for this number: the first page at once, the rest bundled as the limit allows.
    const first = sys.claimAll('sms', dana.number!);
    expect(first).toHaveLength(1);
    for (let minute = 0; minute < 5; minute++) {
      await sys.advanceMinutes(1);
      await sys.settle();
    }
    const later = sys.claimAll('sms', dana.number!);
    const all = [...first, ...later];
    expect(all.length).toBeLessThanOrEqual(6);
    // Every incident reached Dana's phone, singly or in a bundle.
    const mentioned = new Set<number>();
    for (const m of all) {
      for (const n of m.text.matchAll(/#(\d+)/g)) mentioned.add(Number(n[1]));
      const bundled = /(\d+) (?:new )?incidents/.exec(m.text);
      if (bundled) expect(Number(bundled[1])).toBeGreaterThan(1);
    }
    const total = all.reduce((n, m) => n + (Number(/(\d+) (?:new )?incidents/.exec(m.text)?.[1]) || 1), 0);
    expect(total).toBe(50);
    // Each incident shows how often its alert repeated (the coalesced repeat reports have come in).
    const incidents = await svc.incidents();
    expect(incidents.map((i) => i.alertEvents)).toEqual(incidents.map(() => 20));
    const [oneAlert] = await expectOk(sys.incidents.get(`/api/v1/incidents/${incidents[0]!.id}/alerts`));
    expect(oneAlert).toMatchObject({ count: 20, status: 'triggered' });
    for (const i of await svc.incidents()) await expectOk(sys.incidents.post(`/api/v1/incidents/${i.id}/resolve`));
  });

  it('a major incident: the stakeholder gets the update by email, the review exists after resolve, MTTA/MTTR count it', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const svc = await sys.service('Orders', { steps: [{ delayMinutes: 10, targets: [dana] }] });
    await svc.trigger('orders-down', 'Orders API down');
    const page = await dana.expectSms(/Orders API down/);
    const incident = await svc.incident('Orders API down', 'triggered');
    await sys.advanceMinutes(2);
    await page.reply('1a', /Acknowledged/);
    await svc.incident('Orders API down', 'acknowledged');

    await expectOk(sys.incidents.put(`/api/v1/incidents/${incident.id}/major`, { major: true }));
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/stakeholders`, { email: 'cfo@example.com', name: 'Casey CFO' }));
    await expectOk(
      sys.incidents.post(`/api/v1/incidents/${incident.id}/stakeholder-updates`, {
        summary: 'Orders cannot be placed',
        message: 'Checkout fails for all customers since 09:12. Engineers are rolling back the release.',
      }),
    );
    const mail = await sys.expect('email', 'cfo@example.com', /Orders cannot be placed/);
    expect(mail.text).toContain('rolling back the release');

    await sys.advanceMinutes(8);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/resolve`));
    const review = await eventually(async () => {
      const res = await sys.incidents.get(`/api/v1/incidents/${incident.id}/review`);
      return res.status === 200 ? res.body : undefined;
    });
    expect(review).toMatchObject({ incidentId: incident.id });
    // Acknowledged two minutes in, resolved ten minutes in (by the system's clock).
    const times = await expectOk(sys.incidents.get(`/api/v1/analytics/response-times?serviceId=${svc.id}`));
    expect(times.rows).toHaveLength(1);
    expect(times.rows[0]).toMatchObject({ incidents: 1, acknowledged: 1, resolved: 1 });
    expect(times.rows[0].mtta.mean).toBeGreaterThanOrEqual(120);
    expect(times.rows[0].mtta.mean).toBeLessThan(135);
    expect(times.rows[0].mttr.mean).toBeGreaterThanOrEqual(600);
    expect(times.rows[0].mttr.mean).toBeLessThan(620);
  });

  it('a reassigned incident pages the new assignee, whose page says it was reassigned to them', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const lee = await sys.person('Lee');
    const svc = await sys.service('Mobile API', { steps: [{ delayMinutes: 10, targets: [dana] }] });
    await svc.trigger('push-lag', 'Push delivery lag above 60 s');
    await dana.expectSms(/Push delivery lag/);
    const incident = await svc.incident('Push delivery lag above 60 s', 'triggered');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [lee.id] }));
    const mail = await lee.expectEmail(/Push delivery lag/);
    expect(mail.text).toContain('Reassigned to you');
    expect(mail.text).not.toContain('Escalation step');
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incident.id}/resolve`));
  });

  it('a heartbeat expires, pages, recovers and resolves', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const svc = await sys.service('Nightly jobs', { steps: [{ delayMinutes: 5, targets: [dana] }] });
    const hb = await sys.integration(svc.id, 'heartbeat', 'backup-cron', { config: { intervalSeconds: 600 } });
    expect((await sys.ingest.as(null).get(`/heartbeats/${hb.key}`)).status).toBe(200);
    await sys.advanceMinutes(11);
    await dana.expectSms(/backup-cron/);
    const incident = await svc.incident((await svc.incidents())[0]!.title, 'triggered');
    expect((await sys.ingest.as(null).post(`/heartbeats/${hb.key}`)).status).toBe(200);
    await svc.incident(incident.title, 'resolved');
    await expectOk(sys.ingest.post(`/api/v1/integrations/${hb.id}/disable`));
  });

  it('a maintenance window that starts while an incident escalates holds step 2 until it ends', async () => {
    const dana = await sys.person('Dana', { sms: true });
    const lee = await sys.person('Lee', { sms: true });
    const svc = await sys.service('Backups', {
      steps: [
        { delayMinutes: 5, targets: [dana] },
        { delayMinutes: 5, targets: [lee] },
      ],
    });
    await svc.trigger('restore-test', 'Restore test failed');
    await dana.expectSms(/Restore test failed/);
    const held = await svc.incident('Restore test failed', 'triggered');
    await expectOk(
      sys.ingest.post('/api/v1/maintenance-windows', {
        serviceIds: [svc.id],
        startsAt: sys.now().toISOString(),
        endsAt: new Date(sys.now().getTime() + 20 * 60_000).toISOString(),
      }),
    );
    await sys.settle();
    await sys.advanceMinutes(10);
    await sys.settle();
    expect(sys.unclaimed()).toEqual([]);
    await sys.advanceMinutes(11);
    await lee.expectSms(/Restore test failed/);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${held.id}/resolve`));
  });
});
