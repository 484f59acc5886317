import { randomUUID } from 'node:crypto';
import { TestWorld, eventually } from '#libs/testing';
import { probeService } from './probe-service.js';

describe('outbox relay: batches larger than Kafka accepts in one request', () => {
  const world = new TestWorld();
  afterAll(() => world.close());

  it('publishes a committed batch of large events on one key, in order, instead of sticking on it', async () => {
    const probe = await world.start(probeService);
    const tap = await world.tap('alerts');
    const alertId = randomUUID();
    const big = 'x'.repeat(200 * 1024);
    // Twelve 200 KB events on one key (one partition), committed together: 2.4 MB, past the broker's 1 MB per request.
    await probe.runtime.dataSource.transaction((em) =>
      probe.runtime.outbox.publishMany(
        em,
        Array.from({ length: 12 }, (_, i) => ({
          type: 'alert.triggered' as const,
          key: alertId,
          data: {
            alertId,
            serviceId: randomUUID(),
            integrationId: null,
            dedupKey: 'big',
            integrationType: 'test',
            summary: `big ${i}`,
            severity: 'info',
            source: null,
            details: { big },
            triggeredAt: new Date().toISOString(),
          },
        })),
      ),
    );
    const got = await eventually(
      async () => {
        const mine = tap.messages.filter((m) => m.key === alertId);
        return mine.length >= 12 ? mine : undefined;
      },
      { what: 'twelve large events on Kafka', timeoutMs: 30000 },
    );
    expect(got.map((m) => m.json!.data.summary)).toEqual(Array.from({ length: 12 }, (_, i) => `big ${i}`));
  });
});
