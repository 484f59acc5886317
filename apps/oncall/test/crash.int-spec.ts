import { eventually, testClockOf, TestWorld, type KafkaTap } from '#libs/testing';
import { consuming, oncallQuiet, pagesFor, publish, ready, serviceWithPolicy, triggered, user } from './helpers.js';

const MINUTE = 60_000;

/**
 * oncall as its own process, killed with SIGKILL inside the transaction that decided a page (the
 * first page, from the consumer; a later step, from a timer), then restarted: every step pages
 * exactly once. The process runs a test clock that the test moves over HTTP.
 */
describe('oncall killed while deciding a page', () => {
  const world = new TestWorld();
  const clock = { TEST_CLOCK: 'true' };
  let oncall: Awaited<ReturnType<TestWorld['spawn']>>;
  let tap: KafkaTap;
  let serviceId: string;
  let dana: { id: string };
  let eli: { id: string };

  beforeAll(async () => {
    oncall = await world.spawn('oncall', clock);
    await ready(oncall.api);
    tap = await world.tap('pages');
    await consuming(world, tap);
    [dana, eli] = [await user(oncall.api, 'Dana'), await user(oncall.api, 'Eli')];
    const { service } = await serviceWithPolicy(oncall.api, [
      { delayMinutes: 5, targets: [{ type: 'user', id: dana.id }] },
      { delayMinutes: 5, targets: [{ type: 'user', id: eli.id }] },
    ]);
    serviceId = service.id;
  });
  afterAll(() => world.close());

  const advance = async (ms: number) => {
    const res = await oncall.api.post('/__test/clock/advance', { ms }).catch(() => ({ status: 0 }));
    return res.status;
  };

  /** Everything handled by the running process, timers due by its own clock included (a restart resets it). */
  const quiet = () =>
    oncallQuiet(
      world,
      tap,
      testClockOf(() => oncall.api),
    );

  let first: ReturnType<typeof triggered>;

  it('pages step 1 once when killed before committing the first page', async () => {
    first = triggered(serviceId);
    await oncall.stop('SIGTERM');
    await oncall.start({ ...clock, CRASH_AT: 'consumer.incident.triggered.before-commit' });
    await publish(world, first);
    expect(await oncall.waitExit()).toBe(null); // killed, no exit code
    await oncall.start({ ...clock, CRASH_AT: '' });
    await eventually(async () => pagesFor(tap, first.key).length === 1, { what: 'the first page after restart', timeoutMs: 60000 });
    await quiet();
    expect(pagesFor(tap, first.key).map((p) => [p.step, p.userId])).toEqual([[0, dana.id]]);
  });

  it('pages step 2 once when killed before committing the step timer', async () => {
    const second = triggered(serviceId);
    await publish(world, second);
    await eventually(async () => pagesFor(tap, second.key).length === 1, { what: 'step 1', timeoutMs: 60000 });

    await oncall.stop('SIGTERM');
    await oncall.start({ ...clock, CRASH_AT: 'timer.escalation.step.before-commit' });
    await advance(6 * MINUTE);
    expect(await oncall.waitExit()).toBe(null);

    // A restarted process's test clock starts again at real time: move it past the due time again.
    await oncall.start({ ...clock, CRASH_AT: '' });
    await advance(6 * MINUTE);
    await eventually(async () => pagesFor(tap, second.key).length === 2 && pagesFor(tap, first.key).length === 2, {
      what: 'step 2 of both incidents',
      timeoutMs: 60000,
    });
    await quiet();
    for (const incident of [first, second]) {
      expect(pagesFor(tap, incident.key).map((p) => [p.step, p.userId])).toEqual([
        [0, dana.id],
        [1, eli.id],
      ]);
    }
  });
});
