import { performance } from 'node:perf_hooks';
import { Api, SmtpSink, TestWorld, createPagingWorld, eventually, pdTrigger } from '#libs/testing';
import { PageClock, printHops, printQuantiles } from './support/pages.js';

/**
 * End-to-end latency of the walking skeleton through four separate processes over real Kafka and
 * PostgreSQL: from the moment a PagerDuty v2 trigger is sent to alert-ingest until the page email
 * arrives at an SMTP server. Alerts go out at a steady rate (not a flood) so the figure is latency,
 * not queueing.   npm run bench -- skeleton [count=200] [perSecond=10]
 */
export default async function skeleton(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 200);
  const perSecond = Number(args[1] ?? 10);
  const smtp = await new SmtpSink().start();
  const world = new TestWorld();
  try {
    const [ingest, oncall] = await Promise.all([
      world.spawn('alert-ingest'),
      world.spawn('oncall'),
      // Every page goes to one person: with the default email limit (6 a minute) they would be
      // bundled, which is right for a person and wrong for a latency figure.
      world.spawn('notifier', { SMTP_URL: smtp.url, RATE_LIMIT_EMAIL: 'off' }),
      world.spawn('incidents'),
    ]);
    const setup = await createPagingWorld(oncall.api, ingest.api, { email: 'bench@example.com' });
    // Each alert's events, found by its correlation id, time the hops between the services.
    const tap = await world.tap('alerts', 'incidents', 'pages');
    const sender = new Api(ingest.url, null);
    // Warm-up: consumers joined, connections open.
    await sender.post('/v2/enqueue', pdTrigger(setup.routingKey, 'warm-up', 'warm-up'));
    await eventually(async () => smtp.mails.length >= 1, { timeoutMs: 60000, what: 'warm-up page' });

    const sentAt = new Map<string, number>();
    const accept: number[] = [];
    const interval = 1000 / perSecond;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const key = `bench-${i}`;
      const wait = started + i * interval - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt.set(key, Date.now());
      const p0 = performance.now();
      const res = await sender.post('/v2/enqueue', pdTrigger(setup.routingKey, key, `Bench alert ${key}`), { 'x-correlation-id': key });
      accept.push(performance.now() - p0);
      if (res.status !== 202) throw new Error(`alert ${key} answered ${res.status}`);
    }
    // Pages that queue for the one person go as one bundled email; each alert counts from its first.
    const pages = new PageClock(smtp, /Bench alert (bench-\d+)/g);
    await eventually(async () => pages.size >= count, { timeoutMs: 120000, what: `${count} pages` });
    const keys = [...sentAt.keys()];
    const latencies = keys.map((k) => pages.at(k)! - sentAt.get(k)!);
    printQuantiles(`alert sent -> page email received (${count} alerts at ${perSecond}/s)`, latencies);
    printQuantiles('alert accepted (HTTP 202 from alert-ingest)', accept);
    printHops(
      keys.map((key) => ({ key, receivedAt: pages.at(key)! })),
      sentAt,
      tap.messages,
    );
    const emails = smtp.mails.filter((m) => /Bench alert/.test(`${m.subject}\n${m.text}`)).length;
    console.log(`pages received: ${pages.size} for ${count} alerts, in ${emails} emails; pages counted twice: ${pages.doubled}`);
  } finally {
    await world.close();
    await smtp.stop();
  }
}
