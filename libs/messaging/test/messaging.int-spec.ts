import { randomUUID } from 'node:crypto';
import { OffsetClock } from '#libs/clock';
import { buildEvent, dlqTopicName } from '#libs/contracts';
import { KafkaTap, TestWorld, eventually, produceRaw, waitUntilQuiet, type Now } from '#libs/testing';
import { probeService } from './probe-service.js';

function alertEvent(summary: string, alertId: string = randomUUID(), serviceId: string = randomUUID()) {
  return buildEvent(
    'alert.triggered',
    alertId,
    {
      alertId,
      serviceId,
      integrationId: null,
      dedupKey: `k-${alertId}`,
      integrationType: 'test',
      summary,
      severity: 'critical',
      source: 'test',
      triggeredAt: new Date().toISOString(),
    },
    { producer: 'test', correlationId: randomUUID() },
  );
}

describe('messaging: outbox relay, idempotent consumer, dead letters, durable timers', () => {
  const world = new TestWorld();
  let probe: Awaited<ReturnType<TestWorld['start']>>;
  const effects = async (alertId?: string): Promise<{ event_id: string; alert_id: string; summary: string }[]> =>
    probe.runtime.dataSource.query(
      `SELECT event_id, alert_id, summary FROM effects ${alertId ? 'WHERE alert_id = $1' : ''} ORDER BY id`,
      alertId ? [alertId] : [],
    );

  beforeAll(async () => {
    probe = await world.start(probeService);
  });
  afterAll(() => world.close());

  /** Every probe has read all of the alerts topic, emptied its outbox and fired its due timers (by `now`), and the taps have read all. */
  const quiet = (opts: { now?: Now; taps?: KafkaTap[] } = {}) =>
    waitUntilQuiet(world, { services: [{ name: probeService.name, consumes: probeService.consumes, now: opts.now }], taps: opts.taps });

  it('applies a message delivered twice exactly once', async () => {
    const event = alertEvent('twice');
    const message = { key: event.key, value: JSON.stringify(event) };
    await produceRaw(world.infra.brokers, world.topic('alerts'), [message, message]);
    await eventually(async () => (await effects(event.data.alertId)).length === 1, { what: 'the effect' });
    // The group has read past the second copy: had it been applied, its effect would be there.
    await quiet();
    expect(await effects(event.data.alertId)).toHaveLength(1);
  });

  it('dead-letters a poison message and unreadable bytes, and the partition keeps flowing', async () => {
    const dlqTap = await new KafkaTap(world.infra.brokers, [dlqTopicName(world.topic('alerts'))]).start();
    const key = 'same-partition';
    const poison = alertEvent('poison');
    const good = alertEvent('after the poison');
    await produceRaw(world.infra.brokers, world.topic('alerts'), [
      { key, value: JSON.stringify(poison) },
      { key, value: '{not json' },
      { key, value: JSON.stringify({ ...alertEvent('bad schema'), data: { alertId: 'not-a-uuid' } }) },
      { key, value: JSON.stringify(good) },
    ]);
    await eventually(async () => (await effects(good.data.alertId)).length === 1, { what: 'the message after the poison', timeoutMs: 20000 });
    await eventually(async () => dlqTap.messages.length === 3, { what: 'three dead letters' });
    const reasons = dlqTap.messages.map((m) => m.headers['dlq-reason']);
    expect(reasons).toEqual(['this alert always fails', 'message value is not JSON', expect.stringContaining('alert.triggered: alertId: Invalid UUID')]);
    expect(dlqTap.messages[0]!.headers['dlq-attempts']).toBe('5');
    expect(dlqTap.messages[0]!.value).toBe(JSON.stringify(poison));
    expect(await effects(poison.data.alertId)).toHaveLength(0);
    await dlqTap.stop();
  });

  it('handles queued events of a partition together, once each, and takes a group with a poison event one by one', async () => {
    const dlqTap = await new KafkaTap(world.infra.brokers, [dlqTopicName(world.topic('alerts'))]).start();
    const key = 'storm-partition';
    const storm = Array.from({ length: 200 }, (_, i) => alertEvent(`storm ${i}`));
    const poison = alertEvent('poison');
    const messages = storm.map((e) => ({ key, value: JSON.stringify(e) }));
    // A republished copy and a poison event in the middle of the run.
    messages.splice(120, 0, { key, value: JSON.stringify(storm[10]) }, { key, value: JSON.stringify(poison) });
    await produceRaw(world.infra.brokers, world.topic('alerts'), messages);
    const ids = storm.map((e) => e.data.alertId);
    await eventually(
      async () => (await probe.runtime.dataSource.query('SELECT count(*)::int AS n FROM effects WHERE alert_id = ANY($1)', [ids]))[0].n === 200,
      {
        what: 'the 200 effects',
        timeoutMs: 30000,
      },
    );
    const deadLetters = () => dlqTap.messages.filter((m) => m.value === JSON.stringify(poison));
    await eventually(async () => deadLetters().length === 1, { what: 'the poison event dead-lettered' });
    const perAlert: { n: number }[] = await probe.runtime.dataSource.query(
      'SELECT count(*)::int AS n FROM effects WHERE alert_id = ANY($1) GROUP BY alert_id',
      [ids],
    );
    expect(perAlert.every((r) => r.n === 1)).toBe(true);
    // Rows written in one transaction share its id (xmin): far fewer transactions than events.
    const [tx] = await probe.runtime.dataSource.query(`SELECT count(DISTINCT xmin::text)::int AS n FROM processed_messages WHERE event_id = ANY($1::uuid[])`, [
      storm.map((e) => e.id),
    ]);
    expect(tx.n).toBeLessThan(30);
    expect(await effects(poison.data.alertId)).toHaveLength(0);
    await dlqTap.stop();
  });

  it('retries a handler that fails a few times, then applies it once', async () => {
    const event = alertEvent('flaky handler');
    await produceRaw(world.infra.brokers, world.topic('alerts'), [{ key: event.key, value: JSON.stringify(event) }]);
    await eventually(async () => (await effects(event.data.alertId)).length === 1, { what: 'the effect after retries' });
  });

  it('publishes outbox rows once they commit, in order per key, and never rolled-back ones', async () => {
    const tap = await world.tap('alerts');
    const alertId = randomUUID();
    const { outbox } = probe.runtime;
    for (let i = 0; i < 20; i++) {
      await probe.runtime.dataSource.transaction((em) => outbox.publish(em, 'alert.triggered', alertId, { ...alertEvent(`ordered ${i}`, alertId).data }));
    }
    await expect(
      probe.runtime.dataSource.transaction(async (em) => {
        await outbox.publish(em, 'alert.triggered', alertId, { ...alertEvent('rolled back', alertId).data });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    await eventually(async () => tap.messages.filter((m) => m.key === alertId).length >= 20, { what: '20 events on Kafka' });
    await quiet({ taps: [tap] });
    const summaries = tap.messages.filter((m) => m.key === alertId).map((m) => m.json!.data.summary);
    expect(summaries).toEqual(Array.from({ length: 20 }, (_, i) => `ordered ${i}`));
    const [{ n }] = await probe.runtime.dataSource.query('SELECT count(*)::int AS n FROM outbox');
    expect(n).toBe(0);
  });

  it('never publishes a row twice with two relays on one database', async () => {
    const second = await world.start(probeService);
    const tap = await world.tap('alerts');
    const keys: string[] = Array.from({ length: 10 }, () => randomUUID());
    const writers = [probe, second].map(async (svc, w) => {
      for (let batch = 0; batch < 25; batch++) {
        await svc.runtime.dataSource.transaction(async (em) => {
          for (const key of keys) await svc.runtime.outbox.publish(em, 'alert.triggered', key, { ...alertEvent(`w${w}-b${batch}`, key).data });
        });
      }
    });
    await Promise.all(writers);
    const total = 2 * 25 * keys.length;
    await eventually(async () => tap.messages.filter((m) => keys.includes(m.key!)).length >= total, { what: `${total} events`, timeoutMs: 30000 });
    await quiet({ taps: [tap] });
    const mine = tap.messages.filter((m) => keys.includes(m.key!));
    const ids = mine.map((m) => m.json!.id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    // Per key, each writer's batches arrive in the order they committed.
    for (const key of keys) {
      for (const w of [0, 1]) {
        const seq = mine.filter((m) => m.key === key && m.json!.data.summary.startsWith(`w${w}-`)).map((m) => Number(m.json!.data.summary.split('-b')[1]));
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
    }
  });

  it('fires each durable timer once when two runners compete, at its due time by the injected clock', async () => {
    const clock = new OffsetClock();
    const a = await world.start(probeService, { clock });
    const b = await world.start(probeService, { clock });
    // A minute ahead of the wall clock, so that only a and b can fire the marker below (the other probes run on the wall clock).
    clock.advance(60_000);
    const due = new Date(clock.now().getTime() + 30 * 60_000);
    await a.runtime.dataSource.transaction(async (em) => {
      for (let i = 0; i < 200; i++) await a.runtime.timers.schedule(em, 'probe', `probe:${i}`, due);
      await a.runtime.timers.schedule(em, 'probe', 'marker', clock.now());
    });
    const count = async () =>
      (await a.runtime.dataSource.query(`SELECT count(*)::int AS n, count(DISTINCT key)::int AS keys FROM timer_effects WHERE key LIKE 'probe:%'`))[0];
    // Nothing fires before its time: the marker, due now, has fired in a pass over the same table, and nothing else is due.
    await eventually(async () => (await a.runtime.dataSource.query(`SELECT 1 FROM timer_effects WHERE key = 'marker'`)).length === 1, {
      what: 'the marker timer fired',
    });
    await quiet({ now: () => clock.now() });
    expect((await count()).n).toBe(0);
    clock.advance(30 * 60_000);
    await eventually(async () => (await count()).n >= 200, { what: '200 fired timers' });
    // No timer due is left, not even one claimed by a runner and not yet committed.
    await quiet({ now: () => clock.now() });
    expect(await count()).toEqual({ n: 200, keys: 200 });
    void b;
  });
});
