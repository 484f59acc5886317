import { randomUUID } from 'node:crypto';
import { buildEvent, topicOf } from '#libs/contracts';
import { eventually, produceRaw } from '#libs/testing';
import { IncidentsHarness } from './harness.js';

/**
 * Alerts become incidents: one per alert, grouped in a time window, or grouped by content with a
 * rolling window; safe when alerts of one group are handled at the same moment on different
 * partitions; never into a resolved incident.
 */
describe('incidents from alerts: grouping', () => {
  const h = new IncidentsHarness();
  beforeAll(() => h.start());
  afterAll(() => h.close());

  it('without grouping, opens one incident per alert and announces each once', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'none' } });
    await h.alert(serviceId, { summary: 'Disk full on db1' });
    await h.alert(serviceId, { summary: 'Disk full on db2', severity: 'warning' });
    const list = await h.waitIncidents(serviceId, (l) => l.length === 2);
    expect(list.map((i) => [i.title, i.priority, i.status, i.alertCount]).sort()).toEqual([
      ['Disk full on db1', 'P1', 'triggered', 1],
      ['Disk full on db2', 'P3', 'triggered', 1],
    ]);
    for (const incident of list) {
      const [triggered] = await h.waitPublished(incident.id, 'incident.triggered');
      expect(triggered!.json!.data).toMatchObject({ number: incident.number, reason: 'new', urgency: 'high', serviceId });
    }
    await h.quiet();
    expect(list.flatMap((i) => h.published(i.id, 'incident.triggered'))).toHaveLength(2);
  });

  it('time window: alerts within N minutes join the open incident without paging again; later ones open a new one', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'time', windowMinutes: 5 } });
    await h.alert(serviceId, { summary: 'API latency high', severity: 'warning' });
    const [first] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    h.advance(3);
    await h.alert(serviceId, { summary: 'Checkout errors', severity: 'critical' });
    const joined = await h.waitIncident(first.id, (i) => i.alertCount === 2, 'the second alert joined');
    // A more severe alert raises the priority the alert set (P3 → P1); its title stays the first alert's.
    expect(joined).toMatchObject({ title: 'API latency high', priority: 'P1' });
    expect((await h.timeline(first.id)).filter((e) => e.kind === 'alert.joined')).toHaveLength(2);
    const alerts = (await h.api.get(`/api/v1/incidents/${first.id}/alerts`)).body;
    expect(alerts.map((a: { summary: string; status: string }) => [a.summary, a.status])).toEqual([
      ['API latency high', 'triggered'],
      ['Checkout errors', 'triggered'],
    ]);
    await h.waitPublished(first.id, 'incident.priority-changed');

    h.advance(3); // six minutes after the first alert: outside the window
    await h.alert(serviceId, { summary: 'Checkout errors again' });
    const list = await h.waitIncidents(serviceId, (l) => l.length === 2, 'a second incident');
    expect(list[0]).toMatchObject({ title: 'Checkout errors again', alertCount: 1 });
    expect(h.published(first.id, 'incident.triggered')).toHaveLength(1);
  });

  it('content: alerts with matching fields join, within a window that rolls forward with each grouped alert', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'content', fields: ['source', 'labels.cluster'], windowMinutes: 10 } });
    await h.alert(serviceId, { source: 'db1', labels: { cluster: 'eu-1' }, summary: 'db1 eu-1 #1' });
    const [db1] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    await h.alert(serviceId, { source: 'db2', labels: { cluster: 'eu-1' }, summary: 'db2 eu-1' });
    await h.waitIncidents(serviceId, (l) => l.length === 2, 'a different source opens its own incident');

    // Every 8 minutes: each alert keeps the 10-minute window open for the next one.
    for (const n of [2, 3, 4]) {
      h.advance(8);
      await h.alert(serviceId, { source: 'db1', labels: { cluster: 'eu-1' }, summary: `db1 eu-1 #${n}` });
      await h.waitIncident(db1.id, (i) => i.alertCount === n, `alert #${n} joined (24 minutes after the first)`);
    }
    h.advance(11);
    await h.alert(serviceId, { source: 'db1', labels: { cluster: 'eu-1' }, summary: 'db1 eu-1 after a quiet spell' });
    const list = await h.waitIncidents(serviceId, (l) => l.length === 3, 'a new incident after the window closed');
    expect(list[0].title).toBe('db1 eu-1 after a quiet spell');
  });

  it('two groups of alerts arriving together on every partition still make exactly one incident each', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'content', fields: ['source'], windowMinutes: 30 } });
    // Keyed by alert id, so these land on all six partitions and are handled concurrently.
    const alerts = Array.from({ length: 12 }, (_, i) => h.alertData(serviceId, { source: i % 2 ? 'web' : 'db', summary: `burst ${i}` }));
    await produceRaw(
      h.world.infra.brokers,
      topicOf('alert.triggered', h.world.prefix),
      alerts.map((a) => ({
        key: a.alertId,
        value: JSON.stringify(buildEvent('alert.triggered', a.alertId, a, { producer: 'test', correlationId: randomUUID() })),
      })),
    );
    const list = await h.waitIncidents(serviceId, (l) => l.reduce((n, i) => n + i.alertCount, 0) === 12, 'all twelve alerts recorded');
    expect(list).toHaveLength(2);
    expect(list.map((i) => i.alertCount)).toEqual([6, 6]);
    const rows = await h.query('SELECT incident_id, count(*)::int AS n FROM incident_alerts WHERE service_id = $1 GROUP BY incident_id', [serviceId]);
    expect(rows.map((r) => r.n)).toEqual([6, 6]);
    expect(list.flatMap((i) => h.published(i.id, 'incident.triggered'))).toHaveLength(2);
  });

  it('never adds an alert to a resolved incident: resolving then alerting again opens a new incident', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'time', windowMinutes: 60 } });
    await h.alert(serviceId, { summary: 'Queue backlog' });
    const [first] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    expect((await h.api.post(`/api/v1/incidents/${first.id}/resolve`)).status).toBe(200);
    await h.alert(serviceId, { summary: 'Queue backlog again' });
    const list = await h.waitIncidents(serviceId, (l) => l.length === 2, 'a new incident');
    expect(list.find((i) => i.id === first.id)).toMatchObject({ status: 'resolved', alertCount: 1 });
    expect(list.find((i) => i.id !== first.id)).toMatchObject({ status: 'triggered', title: 'Queue backlog again', alertCount: 1 });
  });

  it('forgets groups a day after their window closed, and a later alert of the group opens a new incident', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'content', fields: ['source'], windowMinutes: 5 } });
    await h.alert(serviceId, { source: 'cache1', summary: 'cache1 evictions' });
    const [first] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    expect(await h.query('SELECT count(*)::int AS n FROM incident_groups WHERE service_id = $1', [serviceId])).toEqual([{ n: 1 }]);
    h.advance(26 * 60); // the daily sweep runs within the first hour, then daily
    await eventually(async () => (await h.query('SELECT 1 FROM incident_groups WHERE service_id = $1', [serviceId])).length === 0, {
      what: 'the group forgotten',
      timeoutMs: 30_000,
    });
    await h.alert(serviceId, { source: 'cache1', summary: 'cache1 evictions again' });
    const list = await h.waitIncidents(serviceId, (l) => l.length === 2);
    expect(list.find((i) => i.id === first.id).alertCount).toBe(1);
  });

  it('records an alert in a maintenance window without opening an incident', async () => {
    const serviceId = await h.createService();
    const alert = await h.alert(serviceId, { inMaintenance: true });
    await h.alert(serviceId, { summary: 'after maintenance' });
    await h.waitIncidents(serviceId, (l) => l.length === 1 && l[0].title === 'after maintenance');
    expect(await h.query('SELECT incident_id FROM incident_alerts WHERE alert_id = $1', [alert.alertId])).toEqual([{ incident_id: null }]);
  });

  it('sets urgency from the service’s support hours', async () => {
    const now = h.clock.now();
    // Support hours that are certainly not now (a one-minute window twelve hours away), low outside.
    const far = new Date(now.getTime() + 12 * 3600_000);
    const hhmm = (d: Date): string => d.toISOString().slice(11, 16);
    const serviceId = await h.createService({
      urgencyRule: {
        type: 'support-hours',
        timeZone: 'UTC',
        days: [1, 2, 3, 4, 5, 6, 7],
        start: hhmm(far),
        end: hhmm(new Date(far.getTime() + 60_000)),
        during: 'high',
        outside: 'low',
      },
    });
    await h.alert(serviceId);
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    expect(incident.urgency).toBe('low');
    expect((await h.waitPublished(incident.id, 'incident.triggered'))[0]!.json!.data.urgency).toBe('low');
  });
});
