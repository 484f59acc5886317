import { randomUUID } from 'node:crypto';
import { OffsetClock } from '#libs/clock';
import { type KafkaTap, TestWorld, eventually, expectOk, waitUntilQuiet } from '#libs/testing';
import { ingestService } from '../src/service.js';

/** An in-process alert-ingest with its own databases, a movable clock and a tap on what it publishes. */
export async function startIngest(env: Record<string, string> = {}) {
  const world = new TestWorld();
  const clock = new OffsetClock();
  const svc = await world.start(ingestService, { clock, env });
  const tap = await world.tap('alerts', 'directory');
  const admin = svc.api;
  const sender = svc.api.as(null);

  async function integration(type: string, config?: Record<string, unknown>, serviceId: string = randomUUID(), name = `${type} ${randomUUID().slice(0, 6)}`) {
    const body = await expectOk(admin.post('/api/v1/integrations', { serviceId, type, name, ...(config ? { config } : {}) }));
    return { serviceId, key: body.key as string, id: body.integration.id as string };
  }

  async function alerts(serviceId: string, query = ''): Promise<any[]> {
    return expectOk(admin.get(`/api/v1/alerts?serviceId=${serviceId}${query}`));
  }

  /** Events the service published about one service's alerts, in order, each once (the relay may publish an event again: delivery is at least once, and consumers skip copies by event id). */
  function eventsOf(serviceId: string, type?: string) {
    const seen = new Set<string>();
    return tap.messages
      .filter((m) => m.json?.data?.serviceId === serviceId && (!type || m.json.type === type))
      .map((m) => m.json!)
      .filter((e) => !seen.has(e.id) && !!seen.add(e.id));
  }

  /** Waits until alert-ingest has handled everything so far (timers due by its clock included) and the tap has read what it published. */
  const quiet = () => waitUntilQuiet(world, { services: ['alert-ingest'], now: () => clock.now(), taps: [tap] });

  return { world, clock, svc, admin, sender, tap, integration, alerts, eventsOf, quiet, close: () => world.close() };
}

export type Ingest = Awaited<ReturnType<typeof startIngest>>;

export async function waitForEvents(tap: KafkaTap, pred: (m: NonNullable<KafkaTap['messages'][number]['json']>) => boolean, n: number, what: string) {
  return eventually(
    async () => {
      const found = tap.messages.map((m) => m.json!).filter((j) => j && pred(j));
      return found.length >= n ? found : undefined;
    },
    { what, timeoutMs: 30000 },
  );
}
