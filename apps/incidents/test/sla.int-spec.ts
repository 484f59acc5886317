import { randomUUID } from 'node:crypto';
import { IncidentsHarness } from './harness.js';

/** SLA goals per service and priority, measured on each incident, breaches detected by durable timers at the right moment. */
describe('SLAs', () => {
  const h = new IncidentsHarness();
  beforeAll(() => h.start());
  afterAll(() => h.close());

  async function serviceWithSla(
    goals: { priority: string; acknowledgeWithinMinutes?: number | null; resolveWithinMinutes?: number | null }[],
  ): Promise<string> {
    const serviceId = await h.createService();
    const res = await h.api.put(`/api/v1/services/${serviceId}/sla-policy`, { goals });
    expect(res.status).toBe(200);
    return serviceId;
  }

  it('fires an acknowledgement breach at the moment it happens, not before, and publishes it once', async () => {
    const serviceId = await serviceWithSla([{ priority: 'P1', acknowledgeWithinMinutes: 15, resolveWithinMinutes: 240 }]);
    await h.alert(serviceId, { severity: 'critical' });
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    const opened = new Date(incident.createdAt).getTime();
    expect(incident.slas).toEqual([
      expect.objectContaining({ goal: 'acknowledge', targetSeconds: 900, status: 'running', dueAt: new Date(opened + 900_000).toISOString() }),
      expect.objectContaining({ goal: 'resolve', targetSeconds: 14400, status: 'running' }),
    ]);

    h.advance(14);
    await h.quiet();
    expect(h.published(incident.id, 'incident.sla-breached')).toHaveLength(0);
    const running = (await h.api.get(`/api/v1/incidents/${incident.id}`)).body.slas[0];
    expect(running.status).toBe('running');
    expect(running.remainingSeconds).toBeLessThanOrEqual(60);
    expect(running.remainingSeconds).toBeGreaterThan(0);

    h.advance(1.5);
    const [breach] = await h.waitPublished(incident.id, 'incident.sla-breached');
    expect(breach!.json!.data).toMatchObject({ goal: 'acknowledge', priority: 'P1', targetSeconds: 900, breachedAt: new Date(opened + 900_000).toISOString() });
    const after = (await h.api.get(`/api/v1/incidents/${incident.id}`)).body;
    expect(after.slas[0]).toMatchObject({ status: 'breached', breachedAt: new Date(opened + 900_000).toISOString() });
    expect(after.slas[1].status).toBe('running');
    expect((await h.timeline(incident.id)).filter((e) => e.kind === 'sla.breached')).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ goal: 'acknowledge' }) }),
    ]);

    // Acknowledging late keeps the breach; resolving in time meets the resolve goal.
    await h.api.post(`/api/v1/incidents/${incident.id}/acknowledge`);
    const resolved = (await h.api.post(`/api/v1/incidents/${incident.id}/resolve`)).body;
    expect(resolved.slas.map((s: { status: string }) => s.status)).toEqual(['breached', 'met']);
    h.advance(300);
    await h.quiet();
    expect(h.published(incident.id, 'incident.sla-breached')).toHaveLength(1);
  });

  it('does not count snoozed time towards the resolve goal', async () => {
    const serviceId = await serviceWithSla([{ priority: 'P1', resolveWithinMinutes: 60 }]);
    await h.alert(serviceId);
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    expect(incident.slas.map((s: { goal: string }) => s.goal)).toEqual(['resolve']);
    h.advance(10);
    await h.api.post(`/api/v1/incidents/${incident.id}/snooze`, { minutes: 120 });
    const paused = (await h.api.get(`/api/v1/incidents/${incident.id}`)).body.slas[0];
    expect(paused).toMatchObject({ status: 'paused', dueAt: null });
    h.advance(100); // still snoozed: two hours of wall time, ten minutes of SLA time
    await h.quiet();
    expect(h.published(incident.id, 'incident.sla-breached')).toHaveLength(0);
    h.advance(21); // snooze over at 130; 50 minutes of SLA time left, due at 180
    const resumed = await h.waitIncident(incident.id, (i) => i.status === 'triggered' && i.slas[0].status === 'running');
    expect(new Date(resumed.slas[0].dueAt).getTime()).toBe(new Date(incident.createdAt).getTime() + 180 * 60_000);
    h.advance(48);
    await h.quiet();
    expect(h.published(incident.id, 'incident.sla-breached')).toHaveLength(0);
    h.advance(3);
    const [breach] = await h.waitPublished(incident.id, 'incident.sla-breached');
    expect(breach!.json!.data).toMatchObject({ goal: 'resolve', breachedAt: resumed.slas[0].dueAt });
  });

  it('moves the targets when the priority changes', async () => {
    const serviceId = await serviceWithSla([
      { priority: 'P1', acknowledgeWithinMinutes: 5 },
      { priority: 'P3', acknowledgeWithinMinutes: 60 },
    ]);
    await h.alert(serviceId, { severity: 'warning' });
    const [incident] = await h.waitIncidents(serviceId, (l) => l.length === 1);
    expect(incident.slas[0]).toMatchObject({ targetSeconds: 3600 });
    h.advance(10);
    const raised = await h.api.put(`/api/v1/incidents/${incident.id}/priority`, { priority: 'P1' });
    // Ten minutes already counted against a five-minute goal: breached at once, at minute five.
    expect(raised.body.slas[0]).toMatchObject({ targetSeconds: 300 });
    const [breach] = await h.waitPublished(incident.id, 'incident.sla-breached');
    expect(breach!.json!.data.breachedAt).toBe(new Date(new Date(incident.createdAt).getTime() + 300_000).toISOString());
  });

  it('shows and validates a service’s policy', async () => {
    const serviceId = await serviceWithSla([{ priority: 'P2', acknowledgeWithinMinutes: 30, resolveWithinMinutes: null }]);
    expect((await h.api.get(`/api/v1/services/${serviceId}/sla-policy`)).body).toEqual({
      serviceId,
      goals: [{ priority: 'P2', acknowledgeWithinMinutes: 30, resolveWithinMinutes: null }],
    });
    const twice = await h.api.put(`/api/v1/services/${serviceId}/sla-policy`, {
      goals: [
        { priority: 'P1', acknowledgeWithinMinutes: 5 },
        { priority: 'P1', resolveWithinMinutes: 5 },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toContain('P1 is given twice');
    expect((await h.api.put(`/api/v1/services/${serviceId}/sla-policy`, { goals: [{ priority: 'P1' }] })).body.message).toContain(
      'set acknowledgeWithinMinutes, resolveWithinMinutes or both',
    );
    expect((await h.api.put(`/api/v1/services/${randomUUID()}/sla-policy`, { goals: [] })).status).toBe(404);
    const responder = await h.as((await h.createUser('Rae')).id, 'responder');
    expect((await responder.put(`/api/v1/services/${serviceId}/sla-policy`, { goals: [] })).status).toBe(403);
  });
});
