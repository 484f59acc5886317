import { randomUUID } from 'node:crypto';
import { buildEvent, topicOf } from '#libs/contracts';
import { TestWorld, eventually, produceRaw } from '#libs/testing';
import { notifierService } from '../apps/notifier/src/service.js';

/**
 * notifier alone, over real Kafka and PostgreSQL, in capture mode (the provider call is an insert
 * into the inbox, so the figures are notifier's own cost):
 *  1. a burst of `burst` page requests on the pages topic at once: pages/s from the first request
 *     to the last provider call;
 *  2. `paced` page requests at `perSecond`: page-request-to-provider-call latency (p50/p99), from
 *     the moment the request is produced to Kafka to the moment the provider is called.
 * Each page is for a different user (no bundling, no rate limit in the way).
 *   npm run bench -- notifier [burst=2000] [paced=300] [perSecond=30]
 */
export default async function notifier(args: string[]): Promise<void> {
  const burst = Number(args[0] ?? 2000);
  const paced = Number(args[1] ?? 300);
  const perSecond = Number(args[2] ?? 30);
  const world = new TestWorld();
  try {
    const svc = await world.start(notifierService, { env: { RATE_LIMIT_EMAIL: 'off', LOG_LEVEL: 'warn' } });
    const db = svc.runtime.dataSource;
    const topic = topicOf('page.requested', world.prefix);
    const send = (pages: ReturnType<typeof page>[]) =>
      produceRaw(
        world.infra.brokers,
        topic,
        pages.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
      );
    const delivered = async (tag: string): Promise<{ n: number; first: Date; last: Date }> =>
      (
        await db.query(`SELECT count(*)::int AS n, min(created_at) AS first, max(created_at) AS last FROM inbox_messages WHERE subject LIKE $1`, [`%${tag}%`])
      )[0];

    // Warm-up: the consumer has joined its group and the connections are open.
    await send([page('warm-up', 0)]);
    await eventually(async () => (await delivered('warm-up')).n === 1, { timeoutMs: 60000, what: 'the warm-up page' });

    // 1. Burst.
    const pages = Array.from({ length: burst }, (_, i) => page('burst', i));
    const t0 = Date.now();
    for (let i = 0; i < pages.length; i += 500) await send(pages.slice(i, i + 500));
    const done = await eventually(
      async () => {
        const d = await delivered('burst');
        return d.n >= burst ? d : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 200, what: `${burst} pages` },
    );
    const seconds = (new Date(done.last).getTime() - t0) / 1000;
    const [consumed] = await db.query(`SELECT max(created_at) AS last FROM notifications WHERE page->>'title' LIKE 'Bench burst%'`);
    console.log(`burst: all ${burst} page requests consumed (notifications scheduled) after ${((new Date(consumed.last).getTime() - t0) / 1000).toFixed(1)} s`);
    console.log(`burst: ${burst} page requests -> ${done.n} provider calls in ${seconds.toFixed(1)} s = ${(burst / seconds).toFixed(0)} pages/s`);
    const burstLatency: { ms: number }[] = await db.query(
      `SELECT extract(epoch FROM i.created_at - (n.page->>'requestedAt')::timestamptz) * 1000 AS ms
       FROM inbox_messages i JOIN notifications n ON n.id = i.notification_id WHERE i.subject LIKE '%burst%'`,
    );
    print(
      'burst: page request -> provider call (includes queueing behind the burst)',
      burstLatency.map((r) => Number(r.ms)),
    );

    // 2. Paced.
    const interval = 1000 / perSecond;
    const start = Date.now();
    for (let i = 0; i < paced; i++) {
      const wait = start + i * interval - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await send([page('paced', i)]);
    }
    await eventually(async () => (await delivered('paced')).n >= paced, { timeoutMs: 120_000, what: `${paced} paced pages` });
    const latency: { ms: number }[] = await db.query(
      `SELECT extract(epoch FROM i.created_at - (n.page->>'requestedAt')::timestamptz) * 1000 AS ms
       FROM inbox_messages i JOIN notifications n ON n.id = i.notification_id WHERE i.subject LIKE '%paced%'`,
    );
    print(
      `paced: page request -> provider call (${paced} pages at ${perSecond}/s)`,
      latency.map((r) => Number(r.ms)),
    );
    const [{ dup }] = await db.query(`SELECT count(*) - count(DISTINCT notification_id) AS dup FROM inbox_messages`);
    console.log(`provider calls: ${burst + paced + 1} pages, duplicates: ${dup}`);
  } finally {
    await world.close();
  }
}

/** A page request stamped now: requestedAt is when it was produced. */
function page(tag: string, i: number) {
  const incidentId = randomUUID();
  const userId = randomUUID();
  return buildEvent(
    'page.requested',
    incidentId,
    {
      pageId: `${incidentId}:0:0:0:${userId}`,
      incidentId,
      incidentNumber: i + 1,
      serviceId: randomUUID(),
      serviceName: 'Checkout API',
      title: `Bench ${tag} ${i}`,
      urgency: 'high',
      userId,
      userName: 'Bench',
      userEmail: `bench-${userId.slice(0, 8)}@example.com`,
      step: 0,
      loop: 0,
      requestedAt: new Date().toISOString(),
    },
    { producer: 'bench', correlationId: randomUUID() },
  );
}

function print(label: string, values: number[]): void {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  console.log(`${label}: p50 ${q(50).toFixed(1)} ms, p90 ${q(90).toFixed(1)} ms, p99 ${q(99).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`);
}
