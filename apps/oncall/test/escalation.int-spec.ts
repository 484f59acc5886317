import { OffsetClock } from '#libs/clock';
import type { EventInput, EventType } from '#libs/contracts';
import { expectOk, eventually, TestWorld, type Api, type KafkaTap } from '#libs/testing';
import { oncallService } from '../src/service.js';
import { actor, consuming, event, oncallQuiet, pagesFor, publish, ready, serviceWithPolicy, stepsFor, triggered, user } from './helpers.js';

const MINUTE = 60_000;

/**
 * The escalation engine over real Kafka and PostgreSQL: incidents arrive as incidents publishes
 * them, pages are read off the pages topic, and a test clock fast-forwards the delays.
 */
describe('escalation engine', () => {
  const world = new TestWorld();
  const clock = new OffsetClock();
  let api: Api;
  let tap: KafkaTap;
  let dana: { id: string };
  let eli: { id: string };

  beforeAll(async () => {
    const oncall = await world.start(oncallService, { clock });
    api = oncall.api;
    await ready(api);
    tap = await world.tap('pages');
    await consuming(world, tap);
    dana = await user(api, 'Dana');
    eli = await user(api, 'Eli');
  });
  afterAll(() => world.close());
  const quiet = () => oncallQuiet(world, tap, () => clock.now());

  /** Publishes what incidents publishes when someone acts on the incident. */
  const act = <T extends EventType>(type: T, incidentId: string, serviceId: string, data: Omit<EventInput<T>, 'incidentId' | 'number' | 'serviceId' | 'by'>) =>
    publish(world, event(type, incidentId, { incidentId, number: 1, serviceId, by: actor, ...data } as EventInput<T>));

  const twoSteps = () =>
    serviceWithPolicy(api, [
      { delayMinutes: 10, targets: [{ type: 'user', id: dana.id }] },
      { delayMinutes: 5, targets: [{ type: 'user', id: eli.id }] },
    ]);

  it('pages step 1 at once, step 2 at its delay and not before, then reports exhaustion', async () => {
    const { service } = await twoSteps();
    const incident = triggered(service.id);
    await publish(world, incident);
    const first = await eventually(async () => pagesFor(tap, incident.key)[0], { what: 'the first page' });
    expect(first).toMatchObject({ userId: dana.id, step: 0, loop: 0, pageId: `${incident.key}:g1:l0:s0:${dana.id}` });

    clock.advance(9 * MINUTE + 30_000);
    await quiet();
    expect(pagesFor(tap, incident.key)).toHaveLength(1);

    clock.advance(30_000);
    const second = await eventually(async () => pagesFor(tap, incident.key)[1], { what: 'the step 2 page' });
    expect(second).toMatchObject({ userId: eli.id, step: 1, loop: 0 });

    clock.advance(5 * MINUTE);
    await eventually(async () => tap.ofType('escalation.exhausted').some((m) => m.json!.data.incidentId === incident.key), { what: 'exhaustion' });
    expect(pagesFor(tap, incident.key)).toHaveLength(2);
  });

  it('stops escalating when the incident is acknowledged', async () => {
    const { service } = await twoSteps();
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 1, { what: 'the first page' });
    await act('incident.acknowledged', incident.key, service.id, { acknowledgedAt: new Date().toISOString() });
    // The ack is applied when the consumer has processed it; then the timer is gone.
    await eventually(async () => (await timerCount(api, incident.key)) === 0, { what: 'the timer cancelled' });
    clock.advance(60 * MINUTE);
    await quiet();
    expect(pagesFor(tap, incident.key)).toHaveLength(1);
  });

  it('loops back to step 1 the repeat count of times, then stops', async () => {
    const { service } = await serviceWithPolicy(api, [{ delayMinutes: 3, targets: [{ type: 'user', id: dana.id }] }], { repeatCount: 2 });
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 1, { what: 'loop 0' });
    for (const loop of [1, 2]) {
      clock.advance(3 * MINUTE);
      await eventually(async () => pagesFor(tap, incident.key).length === loop + 1, { what: `loop ${loop}` });
    }
    clock.advance(3 * MINUTE);
    await eventually(async () => tap.ofType('escalation.exhausted').some((m) => m.json!.data.incidentId === incident.key), { what: 'exhaustion' });
    expect(pagesFor(tap, incident.key).map((p) => p.loop)).toEqual([0, 1, 2]);
  });

  it('records a step with nobody on call and moves on to the next step at once', async () => {
    const emptyTeam = await expectOk(api.post('/api/v1/teams', { name: `Nobody home ${Date.now()}`, members: [] }));
    const { service } = await serviceWithPolicy(api, [
      { delayMinutes: 10, targets: [{ type: 'team', id: emptyTeam.id }] },
      { delayMinutes: 10, targets: [{ type: 'user', id: eli.id }] },
    ]);
    const incident = triggered(service.id);
    await publish(world, incident);
    const page = await eventually(async () => pagesFor(tap, incident.key)[0], { what: 'the step 2 page' });
    expect(page).toMatchObject({ userId: eli.id, step: 1 });
    expect(stepsFor(tap, incident.key)).toEqual([
      expect.objectContaining({ step: 0, userIds: [], nobodyOnCall: true }),
      expect.objectContaining({ step: 1, userIds: [eli.id], nobodyOnCall: false }),
    ]);
  });

  it("pages whoever is on call on a schedule target, and a team's managers and responders but not its observers", async () => {
    const fay = await user(api, 'Fay');
    const gus = await user(api, 'Gus');
    const schedule = await expectOk(
      api.post('/api/v1/schedules', {
        name: `Primary ${Date.now()}`,
        timeZone: 'Europe/Berlin',
        layers: [{ name: 'weekly', participants: [fay.id], turn: { unit: 'weeks', count: 1 }, startDate: '2020-01-06', handoffTime: '09:00' }],
      }),
    );
    const team = await expectOk(
      api.post('/api/v1/teams', {
        name: `DB team ${Date.now()}`,
        members: [
          { userId: gus.id, role: 'manager' },
          { userId: dana.id, role: 'observer' },
        ],
      }),
    );
    const { service } = await serviceWithPolicy(api, [
      {
        delayMinutes: 10,
        targets: [
          { type: 'schedule', id: schedule.id },
          { type: 'team', id: team.id },
        ],
      },
    ]);
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 2, { what: 'two pages' });
    await quiet();
    expect(
      pagesFor(tap, incident.key)
        .map((p) => p.userId)
        .sort(),
    ).toEqual([fay.id, gus.id].sort());
  });

  it('pages only the first step of a low-urgency incident, until someone escalates by hand', async () => {
    const { service } = await twoSteps();
    const incident = triggered(service.id, { urgency: 'low' });
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 1, { what: 'the first page' });
    clock.advance(30 * MINUTE);
    await quiet();
    expect(pagesFor(tap, incident.key)).toHaveLength(1);

    await act('incident.escalate-requested', incident.key, service.id, { requestedAt: new Date().toISOString() });
    const escalated = await eventually(async () => pagesFor(tap, incident.key)[1], { what: 'the manual escalation page' });
    expect(escalated).toMatchObject({ userId: eli.id, step: 1 });
  });

  it('jumps to the next step now on manual escalation, and restarts after an acknowledgement timeout', async () => {
    const { service } = await twoSteps();
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 1, { what: 'the first page' });
    await act('incident.escalate-requested', incident.key, service.id, { requestedAt: new Date().toISOString() });
    await eventually(async () => pagesFor(tap, incident.key)[1]?.userId === eli.id, { what: 'step 2 paged by hand' });

    await act('incident.acknowledged', incident.key, service.id, { acknowledgedAt: new Date().toISOString() });
    await publish(world, triggered(service.id, { incidentId: incident.key, reason: 'ack-timeout' }));
    const again = await eventually(async () => pagesFor(tap, incident.key)[2], { what: 'the restarted step 1' });
    expect(again).toMatchObject({ userId: dana.id, step: 0, pageId: `${incident.key}:g2:l0:s0:${dana.id}` });
  });

  it('pages reassigned users at once, and holds escalation while snoozed until the snooze ends', async () => {
    const { service } = await twoSteps();
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => pagesFor(tap, incident.key).length === 1, { what: 'the first page' });
    await act('incident.reassigned', incident.key, service.id, { userIds: [eli.id], reassignedAt: new Date().toISOString() });
    const reassigned = await eventually(async () => pagesFor(tap, incident.key)[1], { what: 'the reassignment page' });
    expect(reassigned.userId).toBe(eli.id);
    expect(reassigned.pageId).toContain(':reassign:');

    await act('incident.snoozed', incident.key, service.id, { snoozedUntil: new Date(Date.now() + 3600_000).toISOString() });
    await eventually(async () => (await timerCount(api, incident.key)) === 0, { what: 'escalation paused' });
    clock.advance(30 * MINUTE);
    await quiet();
    expect(pagesFor(tap, incident.key)).toHaveLength(2);
    await publish(world, triggered(service.id, { incidentId: incident.key, reason: 'snooze-expired' }));
    await eventually(async () => pagesFor(tap, incident.key)[2]?.pageId === `${incident.key}:g2:l0:s0:${dana.id}`, { what: 'paging again after the snooze' });
  });

  it('holds pages while the service is in a maintenance window and sends them when it ends', async () => {
    const { service } = await twoSteps();
    const windowId = crypto.randomUUID();
    const now = clock.now().getTime();
    await publish(
      world,
      event('maintenance.upserted', windowId, {
        windowId,
        serviceIds: [service.id],
        startsAt: new Date(now - MINUTE).toISOString(),
        endsAt: new Date(now + 20 * MINUTE).toISOString(),
        description: 'database upgrade',
      }),
    );
    await eventually(async () => (await dryRun(api, service.id)).maintenanceUntil !== null, { what: 'the window known to oncall' });
    const incident = triggered(service.id);
    await publish(world, incident);
    await eventually(async () => (await timerCount(api, incident.key)) === 1, { what: 'the held page' });
    expect(pagesFor(tap, incident.key)).toHaveLength(0);

    clock.advance(21 * MINUTE);
    const page = await eventually(async () => pagesFor(tap, incident.key)[0], { what: 'the page after maintenance' });
    expect(page).toMatchObject({ userId: dana.id, step: 0 });
  });

  // The test reads oncall's own database only to see that escalation is waiting, never to drive it.
  async function timerCount(_api: Api, incidentId: string): Promise<number> {
    const rows = await queryOncall('SELECT count(*)::int AS n FROM timers WHERE key = $1', [`escalation:${incidentId}`]);
    return rows[0].n;
  }

  async function queryOncall(sql: string, params: unknown[]) {
    const { queryDb } = await import('#libs/testing');
    return queryDb(world.databaseUrl('oncall'), sql, params);
  }
});

async function dryRun(api: Api, serviceId: string) {
  return expectOk(api.get(`/api/v1/services/${serviceId}/dry-run`));
}
