import { Api, TestWorld, eventually, expectOk, queryDb } from '#libs/testing';

/**
 * The promise behind every 2xx: kill -9 alert-ingest in the middle of a flood of alerts; after a
 * restart, every alert it answered 202 for is there, and its alert.triggered reaches Kafka.
 */
describe('alert-ingest killed with SIGKILL during a flood', () => {
  const world = new TestWorld();
  afterAll(() => world.close());

  it('keeps every alert it accepted, and publishes each once', async () => {
    const ingest = await world.spawn('alert-ingest');
    const tap = await world.tap('alerts');
    const serviceId = crypto.randomUUID();
    const { key } = await expectOk(ingest.api.post('/api/v1/integrations', { serviceId, type: 'events-api-v2', name: 'flood' }));
    const sender = new Api(ingest.url, null);
    const accepted: string[] = [];
    let n = 0;
    let killed = false;
    const flood = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!killed) {
          const dedup = `flood-${n++}`;
          const res = await sender
            .post('/v2/enqueue', {
              routing_key: key,
              event_action: 'trigger',
              dedup_key: dedup,
              payload: { summary: `Flood ${dedup}`, source: 'x', severity: 'info' },
            })
            .catch(() => undefined);
          if (res?.status === 202) accepted.push(dedup);
        }
      }),
    );
    await eventually(async () => accepted.length >= 300, { what: '300 accepted alerts', timeoutMs: 60000 });
    await ingest.stop('SIGKILL');
    killed = true;
    await flood;

    await ingest.start();
    const stored = await queryDb<{ dedup_key: string }>(world.databaseUrl('alert-ingest'), `SELECT dedup_key FROM alerts WHERE service_id = $1`, [serviceId]);
    const keys = new Set(stored.map((r) => r.dedup_key));
    expect(accepted.filter((k) => !keys.has(k))).toEqual([]);
    // Each stored alert (accepted, or committed just before the kill) is published exactly once.
    const published = await eventually(
      async () => {
        const mine = tap.ofType('alert.triggered').filter((m) => m.json!.data.serviceId === serviceId);
        // A relay killed mid-batch republishes it: count distinct alerts, not messages.
        return new Set(mine.map((m) => m.json!.data.dedupKey)).size >= stored.length ? mine : undefined;
      },
      { what: 'alert.triggered for every stored alert', timeoutMs: 60000 },
    );
    const ids = published.map((m) => m.json!.id);
    expect(new Set(published.map((m) => m.json!.data.dedupKey)).size).toBe(stored.length);
    // A relay crash may publish an event twice (same id: consumers skip it), never a second event for an alert.
    expect(new Set(ids).size).toBe(stored.length);
  });
});
