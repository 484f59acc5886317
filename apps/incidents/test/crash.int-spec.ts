import { randomUUID } from 'node:crypto';
import type { EventInput, EventType } from '#libs/contracts';
import { TestWorld, eventually, queryDb, testClockOf, waitUntilQuiet, type KafkaTap } from '#libs/testing';
import { publish } from './harness.js';

/**
 * kill -9 of the incidents process inside the acknowledgement-timeout transaction: the incident
 * returns to triggered exactly once after the restart (escalation restarts once, not twice, not never).
 */
describe('incidents crash safety', () => {
  const world = new TestWorld();
  let tap: KafkaTap;
  afterAll(() => world.close());

  const emit = <T extends EventType>(type: T, key: string, data: EventInput<T>): Promise<void> => publish(world, type, key, data);

  it('killed while returning a timed-out acknowledgement to triggered: re-triggered once after restart', async () => {
    const incidents = await world.spawn('incidents', { TEST_CLOCK: 'true', CRASH_AT: 'timer.incident.ack-timeout.before-commit' });
    tap = await world.tap('incidents');
    const serviceId = randomUUID();
    await emit('service.upserted', serviceId, {
      serviceId,
      name: 'Checkout API',
      teamId: null,
      escalationPolicyId: null,
      urgencyRule: { type: 'constant', urgency: 'high' },
      grouping: { mode: 'none' },
      ackTimeoutSeconds: 1800,
      autoResolveOnAlertResolve: true,
      autoResolveTimeoutSeconds: null,
    });
    const alertId = randomUUID();
    await emit('alert.triggered', alertId, {
      alertId,
      serviceId,
      integrationId: null,
      dedupKey: 'db1',
      integrationType: 'events-api-v2',
      summary: 'Disk full on db1',
      severity: 'critical',
      source: 'db1',
      triggeredAt: new Date().toISOString(),
    });
    const incident = await eventually(async () => (await incidents.api.get('/api/v1/incidents')).body[0], { what: 'the incident', timeoutMs: 30_000 });
    expect((await incidents.api.post(`/api/v1/incidents/${incident.id}/acknowledge`)).status).toBe(200);

    await incidents.api.post('/__test/clock/advance', { ms: 31 * 60_000 });
    expect(await incidents.waitExit()).toBe(null);
    const published = (type: string) => tap.messages.filter((m) => m.key === incident.id && m.json?.type === type);
    expect(published('incident.unacknowledged')).toHaveLength(0);
    // The timer survived the crash with the rest of its transaction rolled back.
    expect(await queryDb(world.databaseUrl('incidents'), `SELECT kind FROM timers WHERE key = $1`, [`ack-timeout:${incident.id}`])).toEqual([
      { kind: 'incident.ack-timeout' },
    ]);

    await incidents.start({ CRASH_AT: '' });
    // The restarted process's test clock starts from the real time again.
    await incidents.api.post('/__test/clock/advance', { ms: 31 * 60_000 });
    await eventually(async () => (await incidents.api.get(`/api/v1/incidents/${incident.id}`)).body.status === 'triggered', {
      what: 'triggered again',
      timeoutMs: 30_000,
    });
    await eventually(async () => published('incident.triggered').length === 2, { what: 'the re-trigger published', timeoutMs: 30_000 });
    // Everything handled, by the restarted process's clock: a second re-trigger would be published by now.
    await waitUntilQuiet(world, { services: ['incidents'], now: testClockOf(() => incidents.api), taps: [tap] });
    expect(published('incident.triggered').map((m) => m.json!.data.reason)).toEqual(['new', 'ack-timeout']);
    expect(published('incident.unacknowledged')).toHaveLength(1);
    const timeline = (await incidents.api.get(`/api/v1/incidents/${incident.id}/timeline?order=asc`)).body;
    expect(timeline.filter((e: { kind: string }) => e.kind === 'incident.unacknowledged')).toHaveLength(1);
  });
});
