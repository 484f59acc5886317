import { OffsetClock } from '#libs/clock';
import { eventually, TestWorld, type KafkaTap } from '#libs/testing';
import { oncallService } from '../src/service.js';
import { consuming, oncallQuiet, publish, ready, serviceWithPolicy, triggered, user } from './helpers.js';

const MINUTE = 60_000;
const INCIDENTS = 200;

/**
 * Two oncall instances on one database and one consumer group, as in a deployment with two
 * replicas: over 200 incidents each step pages exactly once — never twice, never zero times.
 */
describe('two oncall instances together', () => {
  const world = new TestWorld();
  const clock = new OffsetClock();
  let tap: KafkaTap;
  let instances: Awaited<ReturnType<TestWorld['start']>>[];

  beforeAll(async () => {
    const first = await world.start(oncallService, { clock });
    instances = [first, await world.start(oncallService, { clock })];
    await ready(first.api);
    tap = await world.tap('pages');
    await consuming(world, tap);
  });
  afterAll(() => world.close());

  it('pages each step of 200 incidents exactly once', async () => {
    const api = instances[1]!.api;
    const [dana, eli] = [await user(api, 'Dana'), await user(api, 'Eli')];
    const { service } = await serviceWithPolicy(api, [
      { delayMinutes: 5, targets: [{ type: 'user', id: dana.id }] },
      { delayMinutes: 5, targets: [{ type: 'user', id: eli.id }] },
    ]);
    const incidents = Array.from({ length: INCIDENTS }, (_, i) => triggered(service.id, { number: i + 1 }));
    const ours = new Set(incidents.map((i) => i.key));
    const pages = () =>
      tap
        .ofType('page.requested')
        .filter((m) => ours.has(m.json!.data.incidentId))
        .map((m) => m.json!.data);
    const timersFired = async () =>
      Promise.all(
        instances.map(async (s) => (await s.runtime.metrics.timersFired.get()).values.reduce((n, v) => n + (v.labels.outcome === 'fired' ? v.value : 0), 0)),
      );
    const timersBefore = await timersFired();

    await publish(world, ...incidents);
    await eventually(async () => pages().length >= INCIDENTS, { what: 'step 1 of every incident', timeoutMs: 60000 });

    clock.advance(5 * MINUTE);
    await eventually(async () => pages().length >= 2 * INCIDENTS, { what: 'step 2 of every incident', timeoutMs: 60000 });

    clock.advance(5 * MINUTE);
    await eventually(async () => tap.ofType('escalation.exhausted').filter((m) => ours.has(m.json!.data.incidentId)).length >= INCIDENTS, {
      what: 'every escalation exhausted',
      timeoutMs: 60000,
    });
    // Both instances have handled everything and the tap has read it: a duplicate would be there now.
    await oncallQuiet(world, tap, () => clock.now());

    const all = pages();
    expect(all).toHaveLength(2 * INCIDENTS);
    expect(new Set(all.map((p) => p.pageId)).size).toBe(2 * INCIDENTS);
    for (const incident of incidents) {
      const mine = all
        .filter((p) => p.incidentId === incident.key)
        .map((p) => `${p.step}:${p.userId}`)
        .sort();
      expect(mine).toEqual([`0:${dana.id}`, `1:${eli.id}`]);
    }
    expect(tap.ofType('escalation.exhausted').filter((m) => ours.has(m.json!.data.incidentId))).toHaveLength(INCIDENTS);
    // Both instances' timer runners took part (each fired some of the 400 step timers).
    const fired = (await timersFired()).map((n, i) => n - timersBefore[i]!);
    expect(fired.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2 * INCIDENTS);
    expect(Math.min(...fired)).toBeGreaterThan(0);
  });
});
