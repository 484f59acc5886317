import { randomUUID } from 'node:crypto';
import { SmtpSink, eventually, type Api } from '#libs/testing';
import { notifierService } from '../../notifier/src/service.js';
import { IncidentsHarness } from './harness.js';

/** Running a major incident: stakeholders and their updates, the bridge, problems, post-incident reviews. */
describe('major incidents: communication, problems and reviews', () => {
  const h = new IncidentsHarness();
  const smtp = new SmtpSink();
  let dana: { id: string; name: string; email: string };
  let lee: { id: string; name: string; email: string };
  let api: Api;
  beforeAll(async () => {
    await Promise.all([h.start(), smtp.start()]);
    // The real notifier, emailing through a real SMTP server: stakeholder updates must reach people.
    await h.world.start(notifierService, { env: { SMTP_URL: smtp.url, LOG_LEVEL: 'error' } });
    [dana, lee] = await Promise.all([h.createUser('Dana'), h.createUser('Lee')]);
    api = await h.as(dana.id);
  });
  afterAll(async () => {
    await h.close();
    await smtp.stop();
  });

  async function openIncident(serviceId?: string, severity: 'critical' | 'warning' = 'critical') {
    const sid = serviceId ?? (await h.createService());
    const alert = await h.alert(sid, { severity, summary: `Outage ${randomUUID().slice(0, 4)}` });
    const list = await h.waitIncidents(sid, (l) => l.some((i) => i.title === alert.summary));
    return { serviceId: sid, incident: list.find((i) => i.title === alert.summary), alert };
  }

  it('sends a stakeholder update to the incident’s and the service’s stakeholders, once per address, and records it', async () => {
    const { serviceId, incident } = await openIncident();
    const noOne = await api.post(`/api/v1/incidents/${incident.id}/stakeholder-updates`, { summary: 'Investigating', message: 'We are on it.' });
    expect(noOne.status).toBe(409);
    expect(noOne.body.message).toContain(`Incident #${incident.number} has no stakeholders yet`);

    // Service stakeholders are configuration (admin); incident stakeholders are added by responders.
    expect((await api.post(`/api/v1/services/${serviceId}/stakeholders`, { userId: lee.id })).status).toBe(403);
    expect((await h.api.post(`/api/v1/services/${serviceId}/stakeholders`, { userId: lee.id })).status).toBe(201);
    const ceo = await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { email: 'ceo@example.com', name: 'The CEO' });
    expect(ceo.status).toBe(201);
    expect((await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { email: 'CEO@example.com', name: 'Again' })).status).toBe(409);
    // Lee is already informed through the service; adding them to the incident too must not email them twice.
    expect((await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { userId: lee.id })).status).toBe(201);
    const bad = await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { phone: '+33600000000' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('give either {"userId": "…"}');

    const listed = (await h.api.get(`/api/v1/incidents/${incident.id}/stakeholders`)).body;
    expect(listed.map((s: { scope: string; name: string; email: string }) => [s.scope, s.name, s.email])).toEqual([
      ['incident', 'The CEO', 'ceo@example.com'],
      ['incident', 'Lee', lee.email],
      ['service', 'Lee', lee.email],
    ]);

    const sent = await api.post(`/api/v1/incidents/${incident.id}/stakeholder-updates`, {
      summary: 'Checkout degraded',
      message: 'Payments fail for 20% of users. Next update in 30 minutes.',
    });
    expect(sent.status).toBe(201);
    const [event] = await h.waitPublished(incident.id, 'stakeholder-update.requested');
    expect(event!.json!.data).toMatchObject({
      incidentId: incident.id,
      number: incident.number,
      updateId: sent.body.id,
      title: incident.title,
      summary: 'Checkout degraded',
      message: 'Payments fail for 20% of users. Next update in 30 minutes.',
      recipients: [
        { email: 'ceo@example.com', name: 'The CEO' },
        { email: lee.email, name: 'Lee' },
      ],
    });
    // notifier emails each stakeholder once.
    const mails = await eventually(async () => (smtp.to('ceo@example.com').length && smtp.to(lee.email).length ? smtp.mails : undefined), {
      what: 'the update emails',
      timeoutMs: 30_000,
    });
    expect(mails.find((m) => m.to.includes('ceo@example.com'))!.subject).toBe(`[Klaxon] Update on #${incident.number} ${incident.title}: Checkout degraded`);
    expect(smtp.to(lee.email)[0]!.text).toContain('Payments fail for 20% of users.');
    // notifier (on the wall clock) has read the request and sent all it will send.
    await h.quiet({ name: 'notifier' });
    expect(smtp.mails.map((m) => m.to).sort()).toEqual([['ceo@example.com'], [lee.email]].sort());

    const entry = (await h.timeline(incident.id)).find((e) => e.kind === 'stakeholder-update.sent');
    expect(entry).toMatchObject({ actor: { name: 'Dana' }, details: { summary: 'Checkout degraded', recipients: 2 } });
    expect((await h.api.get(`/api/v1/incidents/${incident.id}/stakeholder-updates`)).body).toEqual([
      expect.objectContaining({ id: sent.body.id, sentBy: expect.objectContaining({ name: 'Dana' }) }),
    ]);

    expect((await api.delete(`/api/v1/incidents/${incident.id}/stakeholders/${ceo.body.id}`)).status).toBe(204);
    expect((await api.delete(`/api/v1/incidents/${incident.id}/stakeholders/${ceo.body.id}`)).status).toBe(404);
    expect((await h.api.get(`/api/v1/incidents/${incident.id}/stakeholders`)).body).toHaveLength(2);
  });

  it('emails stakeholders of one incident at most 12 times an hour, and lets an incident have at most 100 of them', async () => {
    const { incident } = await openIncident();
    for (let i = 0; i < 100; i++) {
      expect((await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { email: `watcher-${i}@example.com`, name: `Watcher ${i}` })).status).toBe(201);
    }
    const full = await api.post(`/api/v1/incidents/${incident.id}/stakeholders`, { email: 'one-more@example.com', name: 'One more' });
    expect(full.status).toBe(409);
    expect(full.body.message).toBe('This incident has 100 stakeholders already, the most it can have; remove some first');

    const { incident: other } = await openIncident();
    expect((await api.post(`/api/v1/incidents/${other.id}/stakeholders`, { email: 'cfo@example.com', name: 'The CFO' })).status).toBe(201);
    for (let i = 0; i < 12; i++) {
      expect((await api.post(`/api/v1/incidents/${other.id}/stakeholder-updates`, { summary: `Update ${i}`, message: 'Still on it.' })).status).toBe(201);
    }
    const thirteenth = await api.post(`/api/v1/incidents/${other.id}/stakeholder-updates`, { summary: 'Update 12', message: 'Still on it.' });
    expect(thirteenth.status).toBe(429);
    expect(thirteenth.body.message).toBe(`12 updates were sent for incident #${other.number} in the last hour; stakeholders are not emailed more often`);
    expect((await h.api.get(`/api/v1/incidents/${other.id}/stakeholder-updates`)).body).toHaveLength(12);
  });

  it('keeps a conference bridge link per incident', async () => {
    const { incident } = await openIncident();
    const set = await api.put(`/api/v1/incidents/${incident.id}/conference-bridge`, {
      url: 'https://meet.example.com/inc-war-room',
      dialIn: '+1 555 0100 pin 1234',
    });
    expect(set.body).toMatchObject({ conferenceUrl: 'https://meet.example.com/inc-war-room', conferenceDialIn: '+1 555 0100 pin 1234' });
    expect((await h.timeline(incident.id)).some((e) => e.kind === 'incident.conference-bridge')).toBe(true);
    expect((await api.put(`/api/v1/incidents/${incident.id}/conference-bridge`, { url: 'javascript:alert(1)' })).status).toBe(400);
  });

  it('links incidents to the problem that causes them', async () => {
    const serviceId = await h.createService();
    const { incident: a } = await openIncident(serviceId);
    const { incident: b } = await openIncident(serviceId);
    const problem = await api.post('/api/v1/problems', {
      title: 'Connection pool exhaustion on db cluster',
      description: 'Pool too small since the March upgrade',
    });
    expect(problem.status).toBe(201);
    expect(problem.body).toMatchObject({ status: 'open', createdBy: { name: 'Dana' } });
    for (const i of [a, b]) expect((await api.put(`/api/v1/incidents/${i.id}/problem`, { problemId: problem.body.id })).status).toBe(200);

    const shown = (await h.api.get(`/api/v1/problems/${problem.body.id}`)).body;
    expect(shown.incidents.map((i: { id: string }) => i.id)).toEqual([b.id, a.id]);
    expect((await h.incidents(`problemId=${problem.body.id}`)).map((i) => i.id)).toEqual([b.id, a.id]);
    expect((await h.timeline(a.id)).find((e) => e.kind === 'problem.linked')!.details).toMatchObject({ title: 'Connection pool exhaustion on db cluster' });

    const known = await api.patch(`/api/v1/problems/${problem.body.id}`, {
      status: 'known-error',
      rootCause: 'max_connections 100',
      workaround: 'restart pgbouncer',
    });
    expect(known.body).toMatchObject({ status: 'known-error', rootCause: 'max_connections 100', resolvedAt: null });
    expect((await h.api.get('/api/v1/problems?status=known-error')).body.map((p: { id: string }) => p.id)).toContain(problem.body.id);
    expect((await api.patch(`/api/v1/problems/${problem.body.id}`, { status: 'fixed' })).status).toBe(400);

    expect((await api.delete(`/api/v1/incidents/${a.id}/problem`)).status).toBe(204);
    const again = await api.delete(`/api/v1/incidents/${a.id}/problem`);
    expect(again.status).toBe(404);
    expect(again.body.message).toBe(`Incident #${a.number} is not linked to a problem`);
    expect((await api.put(`/api/v1/incidents/${a.id}/problem`, { problemId: randomUUID() })).status).toBe(404);
  });

  it('creates a post-incident review when a P1 incident resolves on a service that asks for P1/P2 reviews, but not for a P3', async () => {
    const serviceId = await h.createService({ automaticReviews: 'major-and-p1-p2' });
    const { incident: p1, alert } = await openIncident(serviceId, 'critical');
    const { incident: p3 } = await openIncident(serviceId, 'warning');
    await h.emit('escalation.step-fired', p1.id, {
      incidentId: p1.id,
      step: 0,
      loop: 0,
      userIds: [lee.id],
      nobodyOnCall: false,
      firedAt: h.clock.now().toISOString(),
    });
    await h.waitIncident(p1.id, (i) => i.assignees.length === 1);
    await h.resolveAlert(alert);
    await h.waitIncident(p1.id, (i) => i.status === 'resolved');
    const review = (await h.api.get(`/api/v1/incidents/${p1.id}/review`)).body;
    // Resolved by the monitor: the review goes to the person who was on it.
    expect(review).toMatchObject({
      incidentId: p1.id,
      incidentNumber: p1.number,
      status: 'draft',
      createdAutomatically: true,
      ownerId: lee.id,
      ownerName: 'Lee',
    });
    expect((await h.timeline(p1.id)).some((e) => e.kind === 'review.created')).toBe(true);

    expect((await api.post(`/api/v1/incidents/${p3.id}/resolve`)).status).toBe(200);
    const none = await h.api.get(`/api/v1/incidents/${p3.id}/review`);
    expect(none.status).toBe(404);
    expect(none.body.message).toBe(`Post-incident review of incident #${p3.number} does not exist`);
    const manual = await api.post(`/api/v1/incidents/${p3.id}/review`);
    expect(manual.body).toMatchObject({ createdAutomatically: false, ownerId: dana.id });
    expect((await api.post(`/api/v1/incidents/${p3.id}/review`)).status).toBe(409);
  });

  it('creates a review for a major incident of any priority, and runs it to publication with action items', async () => {
    const { incident } = await openIncident(undefined, 'warning');
    await api.put(`/api/v1/incidents/${incident.id}/major`, { major: true });
    await api.post(`/api/v1/incidents/${incident.id}/resolve`);
    const review = (await h.api.get(`/api/v1/incidents/${incident.id}/review`)).body;
    expect(review).toMatchObject({ status: 'draft', ownerId: dana.id, createdAutomatically: true });

    const early = await api.patch(`/api/v1/reviews/${review.id}`, { status: 'published' });
    expect(early.status).toBe(409);
    expect(early.body.message).toBe('Fill in whatHappened, impact, rootCause before publishing the review');

    const item = await api.post(`/api/v1/reviews/${review.id}/action-items`, {
      description: 'Alert on pool saturation',
      ownerId: lee.id,
      dueDate: '2030-02-01',
    });
    expect(item.status).toBe(201);
    expect(item.body).toMatchObject({ description: 'Alert on pool saturation', ownerName: 'Lee', dueDate: '2030-02-01', status: 'open' });
    expect((await api.post(`/api/v1/reviews/${review.id}/action-items`, { description: 'x', dueDate: 'next week' })).status).toBe(400);
    expect((await api.patch(`/api/v1/reviews/${review.id}/action-items/${item.body.id}`, { status: 'done' })).body.status).toBe('done');

    const published = await api.patch(`/api/v1/reviews/${review.id}`, {
      whatHappened: 'Checkout failed for 40 minutes',
      impact: '20% of payments failed',
      rootCause: 'Connection pool too small',
      status: 'published',
    });
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', actionItems: [expect.objectContaining({ status: 'done', ownerId: lee.id })] });
    expect((await h.api.get('/api/v1/reviews?status=published')).body.map((r: { id: string }) => r.id)).toContain(review.id);
    expect((await h.timeline(incident.id)).some((e) => e.kind === 'review.published')).toBe(true);
  });
});
