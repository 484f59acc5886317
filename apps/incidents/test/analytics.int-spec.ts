import { IncidentsHarness } from './harness.js';

/**
 * Analytics against a small data set built through the real service on a test clock, with the
 * expected figures worked out by hand:
 *
 * | incident | service (team)        | priority | alerts | acknowledged after | resolved after | ack SLA (5 min) |
 * |----------|-----------------------|----------|--------|--------------------|----------------|-----------------|
 * | I1       | Checkout (Payments)   | P1       | 1      | 2 min              | 10 min         | met             |
 * | I2       | Checkout (Payments)   | P1       | 1      | 8 min              | 30 min         | breached        |
 * | I3       | Billing (Payments)    | P2       | 3      | 4 min              | —              | —               |
 * | I4       | Search (Discovery)    | P3       | 1      | —                  | 20 min         | —               |
 *
 * All: MTTA over 120, 480, 240 s → mean 280, p50 240, p90 432 (linear interpolation);
 *      MTTR over 600, 1800, 1200 s → mean 1200, p50 1200, p90 1680.
 * Checkout: MTTA 120, 480 → mean 300, p50 300, p90 444; MTTR 600, 1800 → mean 1200, p90 1680.
 * Payments: MTTA 120, 480, 240 → mean 280; MTTR 600, 1800 → mean 1200.
 */
describe('analytics', () => {
  const h = new IncidentsHarness();
  const ids: Record<string, string> = {};
  let checkout: string;
  let billing: string;
  let search: string;
  let payments: string;
  let started: Date;

  beforeAll(async () => {
    await h.start();
    started = h.clock.now();
    payments = await h.createTeam('Payments');
    const discovery = await h.createTeam('Discovery');
    checkout = await h.createService({ name: 'Checkout', teamId: payments });
    billing = await h.createService({ name: 'Billing', teamId: payments, grouping: { mode: 'time', windowMinutes: 10 } });
    search = await h.createService({ name: 'Search', teamId: discovery });
    expect((await h.api.put(`/api/v1/services/${checkout}/sla-policy`, { goals: [{ priority: 'P1', acknowledgeWithinMinutes: 5 }] })).status).toBe(200);

    const open = async (name: string, serviceId: string, severity: 'critical' | 'error' | 'warning'): Promise<string> => {
      await h.alert(serviceId, { severity, summary: name });
      const list = await h.waitIncidents(serviceId, (l) => l.some((i) => i.title === name));
      return (ids[name] = list.find((i) => i.title === name).id);
    };
    const act = async (id: string, command: 'acknowledge' | 'resolve'): Promise<void> => {
      expect((await h.api.post(`/api/v1/incidents/${id}/${command}`)).status).toBe(200);
    };

    await open('I1', checkout, 'critical');
    h.advance(2);
    await act(ids.I1!, 'acknowledge');
    h.advance(8);
    await act(ids.I1!, 'resolve');

    await open('I2', checkout, 'critical');
    h.advance(8);
    await h.waitPublished(ids.I2!, 'incident.sla-breached');
    await act(ids.I2!, 'acknowledge');
    h.advance(22);
    await act(ids.I2!, 'resolve');

    await open('I3', billing, 'error');
    await h.alert(billing, { severity: 'error', summary: 'I3 second alert' });
    await h.alert(billing, { severity: 'warning', summary: 'I3 third alert' });
    await h.waitIncident(ids.I3!, (i) => i.alertCount === 3);
    h.advance(4);
    await act(ids.I3!, 'acknowledge');

    const i4 = await h.alert(search, { severity: 'warning', summary: 'I4' });
    ids.I4 = (await h.waitIncidents(search, (l) => l.length === 1))[0].id;
    h.advance(20);
    await h.resolveAlert(i4);
    await h.waitIncident(ids.I4!, (i) => i.status === 'resolved');
  });
  afterAll(() => h.close());

  const period = (): string =>
    `from=${encodeURIComponent(started.toISOString())}&to=${encodeURIComponent(new Date(h.clock.now().getTime() + 60_000).toISOString())}`;
  /** Timings carry the few hundred milliseconds of real time between clock jumps. */
  const near = (expected: number) => expect.toBeWithin(expected);

  it('computes MTTA and MTTR (mean, p50, p90) over all incidents', async () => {
    const res = await h.api.get(`/api/v1/analytics/response-times?${period()}`);
    expect(res.status).toBe(200);
    const [all] = res.body.rows;
    expect(all).toMatchObject({ key: null, incidents: 4, acknowledged: 3, resolved: 3 });
    expect(all.mtta).toEqual({ mean: near(280), p50: near(240), p90: near(432) });
    expect(all.mttr).toEqual({ mean: near(1200), p50: near(1200), p90: near(1680) });
  });

  it('groups MTTA and MTTR per service and per team', async () => {
    const byService = (await h.api.get(`/api/v1/analytics/response-times?${period()}&groupBy=service`)).body.rows;
    const row = (name: string) => byService.find((r: { name: string }) => r.name === name);
    expect(row('Checkout')).toMatchObject({ key: checkout, incidents: 2 });
    expect(row('Checkout').mtta).toEqual({ mean: near(300), p50: near(300), p90: near(444) });
    expect(row('Checkout').mttr).toEqual({ mean: near(1200), p50: near(1200), p90: near(1680) });
    expect(row('Billing')).toMatchObject({ incidents: 1, resolved: 0, mttr: { mean: null, p50: null, p90: null } });
    expect(row('Billing').mtta.mean).toEqual(near(240));
    expect(row('Search')).toMatchObject({ incidents: 1, acknowledged: 0, mtta: { mean: null } });

    const byTeam = (await h.api.get(`/api/v1/analytics/response-times?${period()}&groupBy=team`)).body.rows;
    expect(byTeam.map((r: { name: string; incidents: number }) => [r.name, r.incidents])).toEqual([
      ['Payments', 3],
      ['Discovery', 1],
    ]);
    expect(byTeam[0].mtta.mean).toEqual(near(280));
    expect(byTeam[0].mttr.mean).toEqual(near(1200));
    const team = (await h.api.get(`/api/v1/analytics/response-times?${period()}&teamId=${payments}`)).body.rows[0];
    expect(team.incidents).toBe(3);

    const byPriority = (await h.api.get(`/api/v1/analytics/response-times?${period()}&groupBy=priority`)).body.rows;
    expect(byPriority.map((r: { key: string; incidents: number }) => [r.key, r.incidents])).toEqual([
      ['P1', 2],
      ['P2', 1],
      ['P3', 1],
    ]);
    const byDay = (await h.api.get(`/api/v1/analytics/response-times?${period()}&groupBy=day&timeZone=Europe/Paris`)).body.rows;
    expect(byDay.reduce((n: number, r: { incidents: number }) => n + r.incidents, 0)).toBe(4);
    expect(byDay[0].key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('counts incidents and alerts per service, and alerts per incident', async () => {
    const rows = (await h.api.get(`/api/v1/analytics/volume?${period()}`)).body.rows;
    const byName = Object.fromEntries(rows.map((r: { name: string }) => [r.name, r]));
    expect(byName.Checkout).toMatchObject({ serviceId: checkout, incidents: 2, alerts: 2, alertsPerIncident: 1, maxAlertsPerIncident: 1 });
    expect(byName.Billing).toMatchObject({ serviceId: billing, incidents: 1, alerts: 3, alertsPerIncident: 3, maxAlertsPerIncident: 3 });
    expect(byName.Search).toMatchObject({ serviceId: search, incidents: 1, alerts: 1, alertsPerIncident: 1 });
  });

  it('reports SLA attainment', async () => {
    const rows = (await h.api.get(`/api/v1/analytics/sla?${period()}&groupBy=service`)).body.rows;
    expect(rows).toEqual([
      {
        key: checkout,
        name: 'Checkout',
        acknowledge: { total: 2, met: 1, breached: 1, running: 0, attainment: 0.5 },
        resolve: { total: 0, met: 0, breached: 0, running: 0, attainment: null },
      },
    ]);
  });

  it('answers bad parameters with 400', async () => {
    expect((await h.api.get('/api/v1/analytics/response-times?groupBy=galaxy')).body.message).toContain('groupBy: must be one of none, service, team');
    expect((await h.api.get('/api/v1/analytics/response-times?groupBy=week&timeZone=Mars/Olympus')).body.message).toContain('must be an IANA time zone');
    expect((await h.api.get('/api/v1/analytics/volume?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z')).body.message).toContain(
      '"from" must be before "to"',
    );
  });
});

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Expect {
      toBeWithin(expected: number): unknown;
    }
  }
}

expect.extend({
  toBeWithin(received: unknown, expected: number) {
    const pass = typeof received === 'number' && Math.abs(received - expected) <= 3;
    return { pass, message: () => `expected ${String(received)} to be within 3 seconds of ${expected}` };
  },
});
