import { randomUUID } from 'node:crypto';
import { eventually } from '#libs/testing';
import { IncidentsHarness } from './harness.js';

/**
 * The lifecycle through its public edges: acknowledgements from the API, phones and the monitor;
 * timeouts on a test clock; snooze; auto-resolve; commands and their clear refusals.
 */
describe('incident lifecycle', () => {
  const h = new IncidentsHarness();
  let dana: { id: string; name: string };
  let sam: { id: string; name: string };
  beforeAll(async () => {
    await h.start();
    [dana, sam] = await Promise.all([h.createUser('Dana'), h.createUser('Sam')]);
  });
  afterAll(() => h.close());

  async function openIncident(opts: Parameters<IncidentsHarness['createService']>[0] = {}, alert: Parameters<IncidentsHarness['alert']>[1] = {}) {
    const serviceId = await h.createService(opts);
    const a = await h.alert(serviceId, alert);
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    return { serviceId, alert: a, incident };
  }

  it('an acknowledgement timeout returns the incident to triggered and escalation starts again', async () => {
    const { incident } = await openIncident({ ackTimeoutSeconds: 30 * 60 });
    const acked = await (await h.as(dana.id)).post(`/api/v1/incidents/${incident.id}/acknowledge`);
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: { userId: dana.id, name: 'Dana', source: 'api' } });
    const [ack] = await h.waitPublished(incident.id, 'incident.acknowledged');
    expect(ack!.json!.data.by).toEqual({ userId: dana.id, name: 'Dana', source: 'api' });

    h.advance(29);
    await h.quiet();
    expect((await h.api.get(`/api/v1/incidents/${incident.id}`)).body.status).toBe('acknowledged');
    h.advance(2);
    await h.waitIncident(incident.id, (i) => i.status === 'triggered', 'the incident triggered again');
    const retriggers = await h.waitPublished(incident.id, 'incident.triggered', 2);
    expect(retriggers.map((m) => m.json!.data.reason)).toEqual(['new', 'ack-timeout']);
    expect((await h.waitPublished(incident.id, 'incident.unacknowledged'))[0]!.json!.data.by.source).toBe('timeout');
    // Acknowledging again starts a new timeout; the first acknowledgement time is kept for MTTA.
    const again = await h.api.post(`/api/v1/incidents/${incident.id}/acknowledge`);
    expect(again.body.status).toBe('acknowledged');
    expect(again.body.firstAcknowledgedAt).toBe(acked.body.acknowledgedAt);
  });

  it('a duplicate acknowledgement from two channels is recorded once, and the API names who did it', async () => {
    const { incident } = await openIncident();
    // Dana replies by SMS and taps the push notification at the same moment.
    await Promise.all(
      (['sms', 'push'] as const).map((source) =>
        h.emit('responder.action', incident.id, { incidentId: incident.id, action: 'acknowledge', userId: dana.id, source, at: h.clock.now().toISOString() }),
      ),
    );
    const acked = await h.waitIncident(incident.id, (i) => i.status === 'acknowledged');
    expect(acked.acknowledgedBy).toMatchObject({ userId: dana.id, name: 'Dana' });
    await h.quiet();
    expect((await h.timeline(incident.id)).filter((e) => e.kind === 'incident.acknowledged')).toHaveLength(1);
    expect(h.published(incident.id, 'incident.acknowledged')).toHaveLength(1);

    const late = await (await h.as(sam.id)).post(`/api/v1/incidents/${incident.id}/acknowledge`);
    expect(late.status).toBe(409);
    expect(late.body.message).toBe(`Incident #${incident.number} was already acknowledged by Dana`);
  });

  it('auto-resolves when the monitoring tool resolves all of its alerts, and not before', async () => {
    const serviceId = await h.createService({ grouping: { mode: 'time', windowMinutes: 10 } });
    const a1 = await h.alert(serviceId, { summary: 'db1 down' });
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    const a2 = await h.alert(serviceId, { summary: 'db2 down' });
    await h.waitIncident(incident.id, (i) => i.alertCount === 2);
    await h.resolveAlert(a1);
    await eventually(async () => (await h.timeline(incident.id)).some((e) => e.kind === 'alert.resolved'), { timeoutMs: 30_000 });
    expect((await h.api.get(`/api/v1/incidents/${incident.id}`)).body.status).toBe('triggered');
    await h.resolveAlert(a2);
    const resolved = await h.waitIncident(incident.id, (i) => i.status === 'resolved');
    expect(resolved.resolvedBy).toEqual({ userId: null, name: null, source: 'monitor' });
    expect((await h.waitPublished(incident.id, 'incident.resolved'))[0]!.json!.data.by.source).toBe('monitor');
  });

  it('keeps the incident open when the service turns auto-resolve off', async () => {
    const { incident, alert } = await openIncident({ autoResolveOnAlertResolve: false });
    await h.resolveAlert(alert);
    await eventually(async () => (await h.timeline(incident.id)).some((e) => e.kind === 'alert.resolved'), { timeoutMs: 30_000 });
    expect((await h.api.get(`/api/v1/incidents/${incident.id}`)).body.status).toBe('triggered');
  });

  it('auto-resolves after the inactivity timeout, counted from the last activity', async () => {
    const { incident } = await openIncident({ autoResolveTimeoutSeconds: 4 * 3600 });
    h.advance(3 * 60);
    expect((await (await h.as(dana.id)).post(`/api/v1/incidents/${incident.id}/notes`, { text: 'still digging' })).status).toBe(201);
    h.advance(2 * 60); // five hours after opening, two after the note
    await h.quiet();
    expect((await h.api.get(`/api/v1/incidents/${incident.id}`)).body.status).toBe('triggered');
    h.advance(2 * 60 + 1);
    const resolved = await h.waitIncident(incident.id, (i) => i.status === 'resolved', 'resolved for inactivity');
    expect(resolved.resolvedBy.source).toBe('timeout');
    expect((await h.timeline(incident.id)).find((e) => e.kind === 'incident.resolved')).toMatchObject({ details: { reason: 'no activity for 240 minutes' } });
  });

  it('snoozes for a chosen time, then triggers again and escalation restarts', async () => {
    const { incident } = await openIncident();
    const res = await (await h.as(dana.id)).post(`/api/v1/incidents/${incident.id}/snooze`, { minutes: 60 });
    expect(res.status).toBe(200);
    // Snoozing a triggered incident acknowledges it.
    expect(res.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: { name: 'Dana' } });
    expect(new Date(res.body.snoozedUntil).getTime() - h.clock.now().getTime()).toBeGreaterThan(59 * 60_000);
    await h.waitPublished(incident.id, 'incident.acknowledged');
    const [snoozed] = await h.waitPublished(incident.id, 'incident.snoozed');
    expect(snoozed!.json!.data.snoozedUntil).toBe(new Date(res.body.snoozedUntil).toISOString());

    h.advance(45); // the 30-minute acknowledgement timeout does not apply while snoozed
    await h.quiet();
    expect((await h.api.get(`/api/v1/incidents/${incident.id}`)).body.status).toBe('acknowledged');
    h.advance(16);
    const woken = await h.waitIncident(incident.id, (i) => i.status === 'triggered', 'triggered at the end of the snooze');
    expect(woken.snoozedUntil).toBeNull();
    const triggers = await h.waitPublished(incident.id, 'incident.triggered', 2);
    expect(triggers[1]!.json!.data.reason).toBe('snooze-expired');
  });

  it('escalates and reassigns by hand, and tracks who is assigned from oncall’s escalation', async () => {
    const { incident } = await openIncident();
    await h.emit('escalation.step-fired', incident.id, {
      incidentId: incident.id,
      step: 0,
      loop: 0,
      userIds: [dana.id],
      nobodyOnCall: false,
      firedAt: h.clock.now().toISOString(),
    });
    const assigned = await h.waitIncident(incident.id, (i) => i.assignees.length === 1);
    expect(assigned).toMatchObject({ escalationLevel: 1, assignedTo: [{ userId: dana.id, name: 'Dana' }] });
    expect((await h.api.get(`/api/v1/incidents?assignee=${dana.id}`)).body.map((i: { id: string }) => i.id)).toContain(incident.id);

    const api = await h.as(dana.id);
    await api.post(`/api/v1/incidents/${incident.id}/acknowledge`);
    const escalated = await api.post(`/api/v1/incidents/${incident.id}/escalate`);
    expect(escalated.body.status).toBe('triggered');
    expect((await h.waitPublished(incident.id, 'incident.escalate-requested'))[0]!.json!.data.by.name).toBe('Dana');

    const reassigned = await api.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [sam.id] });
    expect(reassigned.status).toBe(200);
    expect(reassigned.body.assignedTo).toEqual([{ userId: sam.id, name: 'Sam' }]);
    expect((await h.waitPublished(incident.id, 'incident.reassigned'))[0]!.json!.data.userIds).toEqual([sam.id]);

    const unknown = randomUUID();
    const bad = await api.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [unknown] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(`Unknown user: ${unknown}`);

    // Every reassignment pages someone: ten an hour per incident, then 429 until the hour has passed.
    for (let i = 1; i < 10; i++)
      expect((await api.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [i % 2 ? dana.id : sam.id] })).status).toBe(200);
    const eleventh = await api.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [sam.id] });
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.message).toBe(
      `Incident #${incident.number} was reassigned 10 times in the last hour, each time paging someone; wait before reassigning it again`,
    );
    h.clock.advance(61 * 60_000);
    expect((await api.post(`/api/v1/incidents/${incident.id}/reassign`, { userIds: [sam.id] })).status).toBe(200);
  });

  it('changes priority and declares a major incident, publishing both', async () => {
    const { incident } = await openIncident({}, { severity: 'warning' });
    const api = await h.as(dana.id);
    const p = await api.put(`/api/v1/incidents/${incident.id}/priority`, { priority: 'P2' });
    expect(p.body).toMatchObject({ priority: 'P2', prioritySource: 'manual' });
    expect((await h.waitPublished(incident.id, 'incident.priority-changed'))[0]!.json!.data).toMatchObject({ from: 'P3', to: 'P2', by: { name: 'Dana' } });
    const m = await api.put(`/api/v1/incidents/${incident.id}/major`, { major: true });
    expect(m.body.major).toBe(true);
    expect((await h.waitPublished(incident.id, 'incident.major-changed'))[0]!.json!.data.major).toBe(true);
    expect((await h.api.get('/api/v1/incidents?major=true')).body.map((i: { id: string }) => i.id)).toContain(incident.id);
    expect((await h.api.get('/api/v1/incidents?major=false')).body.map((i: { id: string }) => i.id)).not.toContain(incident.id);
    const kinds = (await h.timeline(incident.id)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['incident.priority-changed', 'incident.major-declared']));
  });

  it('refuses bad commands with clear 4xx answers', async () => {
    const { incident } = await openIncident();
    const api = await h.as(dana.id);
    expect((await api.post(`/api/v1/incidents/${incident.id}/resolve`)).status).toBe(200);

    const ack = await api.post(`/api/v1/incidents/${incident.id}/acknowledge`);
    expect(ack.status).toBe(409);
    expect(ack.body.message).toBe(`Incident #${incident.number} was already resolved by Dana`);
    expect((await api.post(`/api/v1/incidents/${incident.id}/snooze`, { minutes: 5 })).status).toBe(409);
    expect((await api.post(`/api/v1/incidents/${incident.id}/escalate`)).status).toBe(409);

    const missing = randomUUID();
    const notFound = await api.post(`/api/v1/incidents/${missing}/acknowledge`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.message).toBe(`Incident ${missing} does not exist`);
    expect((await api.post('/api/v1/incidents/42/acknowledge')).body.message).toContain('must be an incident id (a UUID)');

    const priority = await api.put(`/api/v1/incidents/${incident.id}/priority`, { priority: 'P9' });
    expect(priority.status).toBe(400);
    expect(priority.body.message).toContain('priority: must be one of P1, P2, P3, P4, P5');
    expect((await api.post(`/api/v1/incidents/${incident.id}/snooze`, {})).body.message).toContain('give either "minutes"');
    expect((await api.get('/api/v1/incidents?status=closed')).body.message).toContain('each status must be one of triggered, acknowledged, resolved, open');
    expect((await api.get('/api/v1/incidents?cursor=nonsense')).body.message).toContain('cursor is not valid');

    // Viewers read; they do not act. No token: 401.
    const viewer = await h.as(sam.id, 'viewer');
    expect((await viewer.get(`/api/v1/incidents/${incident.id}`)).status).toBe(200);
    expect((await viewer.post(`/api/v1/incidents/${incident.id}/notes`, { text: 'hi' })).status).toBe(403);
    expect((await h.api.as(null).get('/api/v1/incidents')).status).toBe(401);
  });

  it('lists with filters and cursor pagination, and pages the timeline both ways', async () => {
    const serviceId = await h.createService();
    for (const severity of ['critical', 'warning', 'critical', 'info', 'critical'] as const)
      await h.alert(serviceId, { severity, summary: `${severity} alert` });
    const all = await h.waitIncidents(serviceId, (l) => l.length === 5);
    expect(all.map((i) => i.number)).toEqual([...all.map((i) => i.number)].sort((a, b) => b - a));

    const seen: number[] = [];
    let url: string | null = `/api/v1/incidents?serviceId=${serviceId}&limit=2`;
    while (url) {
      const res: { body: { number: number }[]; headers: Headers } = await h.api.get(url);
      seen.push(...res.body.map((i) => i.number));
      const link: string | null = res.headers.get('link');
      url = link ? link.slice(1, link.indexOf('>')) : null;
      if (url) expect(res.headers.get('x-next-cursor')).toBeTruthy();
    }
    expect(seen).toEqual(all.map((i) => i.number));

    const p1 = await h.incidents(`serviceId=${serviceId}&priority=P1`);
    expect(p1).toHaveLength(3);
    expect(await h.incidents(`serviceId=${serviceId}&priority=P3,P4`)).toHaveLength(2);
    await h.api.post(`/api/v1/incidents/${p1[0].id}/acknowledge`);
    expect((await h.incidents(`serviceId=${serviceId}&status=triggered,resolved`)).map((i) => i.id)).not.toContain(p1[0].id);
    expect(await h.incidents(`serviceId=${serviceId}&status=open`)).toHaveLength(5);
    expect(await h.incidents(`serviceId=${serviceId}&status=acknowledged`)).toHaveLength(1);
    const future = new Date(h.clock.now().getTime() + 3600_000).toISOString();
    expect(await h.incidents(`serviceId=${serviceId}&from=${encodeURIComponent(future)}`)).toHaveLength(0);
    expect(await h.incidents(`serviceId=${serviceId}&to=${encodeURIComponent(future)}`)).toHaveLength(5);

    const incidentId = p1[0].id;
    for (const text of ['one', 'two', 'three']) await h.api.post(`/api/v1/incidents/${incidentId}/notes`, { text });
    const first = await h.api.get(`/api/v1/incidents/${incidentId}/timeline?limit=2`);
    expect(first.body.map((e: { details: { text?: string } }) => e.details.text)).toEqual(['three', 'two']);
    const second = await h.api.get(`/api/v1/incidents/${incidentId}/timeline?limit=2&cursor=${first.headers.get('x-next-cursor')}`);
    expect(second.body.map((e: { details: { text?: string } }) => e.details.text)).toEqual(['one', undefined]);
    const oldest = await h.api.get(`/api/v1/incidents/${incidentId}/timeline?order=asc&limit=1`);
    expect(oldest.body[0].kind).toBe('incident.triggered');
  });
});
