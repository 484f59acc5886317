import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alertmanager, SmtpSink, TestWorld, eventually, expectOk, queryDb, settleWorld, type Api } from '#libs/testing';
import { Client, cpuSample, type CpuSample } from './support/load.js';
import { PageClock, printHops } from './support/pages.js';

/**
 * End to end, through the four services as separate processes over real Kafka and PostgreSQL:
 * from a PagerDuty v2 trigger accepted by alert-ingest to the page reaching its provider (the
 * email arriving at a local SMTP server). A bundled email ("N incidents on …") counts for every
 * incident it lists.
 *
 *   npm run bench -- e2e [scenarios=storm,steady,alertmanager] [storm alerts=10000] [steady seconds=60]
 *
 * - storm: N unique alerts sent as fast as intake takes them (64 in flight) over 100 services
 *   whose policies page 20 people through 10 schedules: the time from the last accepted alert
 *   until every first page reached the provider, the rate end to end, latency per alert, CPU per
 *   incident per process (from /proc) and the peak resident memory of each service.
 * - steady: 50 and 200 new incidents a second for the given seconds each: latency per alert.
 * - alertmanager: Prometheus Alertmanager (group_wait 0s, a webhook receiver here), the same
 *   storm and steady rates with the same client: alert → webhook.
 *
 * Email rate limits are off for the run (RATE_LIMIT_EMAIL=off): with the defaults, pages that
 * queue for one person are bundled and wait for the person's limit window, which is right for a
 * person and says nothing about the pipeline.
 */
export default async function e2e(args: string[]): Promise<void> {
  const scenarios = new Set((args[0] ?? 'storm,steady,alertmanager').split(','));
  const stormCount = Number(args[1] ?? 10000);
  const steadySeconds = Number(args[2] ?? 60);
  const results: string[] = [];
  if (scenarios.has('storm') || scenarios.has('steady')) results.push(...(await klaxon(scenarios, stormCount, steadySeconds)));
  if (scenarios.has('alertmanager')) {
    if (Alertmanager.installed()) results.push(...(await alertmanager(stormCount, scenarios.has('steady') ? steadySeconds : 0)));
    else results.push('prometheus-alertmanager is not installed: no side-by-side figures (apt-get install -y prometheus-alertmanager)');
  }
  console.log(`\n${results.join('\n')}`);
}

const SERVICES = 100;
const PEOPLE = 20;
const SCHEDULES = 10;

async function klaxon(scenarios: Set<string>, stormCount: number, steadySeconds: number): Promise<string[]> {
  const out: string[] = [];
  const smtp = await new SmtpSink().start();
  const world = new TestWorld();
  try {
    // KLAXON_BENCH_PROFILE=<dir>: the services run with --import=<dir>/start.mjs (a profiler of your own), stopped cleanly at the end.
    const profile = process.env.KLAXON_BENCH_PROFILE;
    const quiet = { LOG_LEVEL: 'warn', ...(profile ? { NODE_OPTIONS: `--import=${profile}/start.mjs` } : {}) };
    const [ingest, oncall, notifier, incidents] = await Promise.all([
      world.spawn('alert-ingest', quiet),
      world.spawn('oncall', quiet),
      world.spawn('notifier', { ...quiet, SMTP_URL: smtp.url, RATE_LIMIT_EMAIL: 'off' }),
      world.spawn('incidents', quiet),
    ]);
    const procs = { 'alert-ingest': ingest, oncall, notifier, incidents };
    const keys = await buildWorld(oncall.api, ingest.api);
    const client = new Client([ingest.url], 64);
    const firstPage = new PageClock(smtp, /Bench (\S+) disk full/g);
    const send = (key: string, i: number) => ({
      path: '/v2/enqueue',
      // The correlation id names the alert on every event it causes (hop-by-hop figures).
      headers: { 'x-correlation-id': key },
      body: JSON.stringify({
        routing_key: keys[i % keys.length]!,
        event_action: 'trigger',
        dedup_key: key,
        payload: { summary: `Bench ${key} disk full`, source: 'bench', severity: 'critical' },
      }),
    });
    // Warm-up: one alert per schedule, consumers joined, connections open, every person known to notifier.
    const warm = Array.from({ length: SCHEDULES }, (_, i) => `warm-${i}`);
    await client.run(warm.length, (i) => send(warm[i]!, i));
    await eventually(async () => warm.every((k) => firstPage.at(k) !== undefined), { timeoutMs: 120_000, what: 'warm-up pages' });
    await settleWorld(world, () => new Date(), 120_000);

    if (scenarios.has('storm')) {
      const keysOf = Array.from({ length: stormCount }, (_, i) => `storm-${i}`);
      const pids = new Map(Object.entries(procs).map(([name, p]) => [p.pid!, name]));
      const rss = new PeakRss(pids);
      const before = cpuSample(pids);
      const commitsBefore = await commits(world);
      const acceptedAt = new Map<string, number>();
      const t0 = Date.now();
      const row = await client.run(
        stormCount,
        (i) => send(keysOf[i]!, i),
        '',
        1,
        (i, status) => {
          if (status < 300) acceptedAt.set(keysOf[i]!, Date.now());
        },
      );
      const lastAccepted = Date.now();
      await eventually(async () => keysOf.every((k) => firstPage.at(k) !== undefined), {
        timeoutMs: 15 * 60_000,
        intervalMs: 250,
        what: `${stormCount} first pages`,
      });
      rss.stop();
      const after = cpuSample(pids);
      const commitsAfter = await commits(world);
      const paged = keysOf.map((k) => firstPage.at(k)!);
      const done = Math.max(...paged);
      const latencies = keysOf.map((k) => firstPage.at(k)! - acceptedAt.get(k)!);
      out.push(
        `Klaxon storm: ${row.accepted} unique alerts accepted in ${((lastAccepted - t0) / 1000).toFixed(1)} s (${row.perSecond.toFixed(0)}/s, ${row.refused} refused) over ${SERVICES} services, ${PEOPLE} people`,
        `  every first page at the provider ${((done - lastAccepted) / 1000).toFixed(1)} s after the last accepted alert; ${((stormCount * 1000) / (done - t0)).toFixed(0)} incidents/s end to end (first alert sent → last page)`,
        `  accepted → first page: ${quantiles(latencies)}`,
        `  CPU per incident: ${cpuPerIncident(before, after, stormCount)}`,
        `  PostgreSQL transactions per incident: ${[...commitsAfter].map(([db, n]) => `${db} ${((n - (commitsBefore.get(db) ?? 0)) / stormCount).toFixed(2)}`).join(', ')}`,
        `  peak resident memory: ${rss.summary()}`,
        `  emails: ${smtp.mails.length}, pages counted twice: ${firstPage.doubled}`,
      );
      await settleWorld(world, () => new Date(), 10 * 60_000);
      out.push(`  everything else (timelines, delivery reports) handled ${((Date.now() - done) / 1000).toFixed(1)} s after the last page`);
      console.log(out.join('\n'));
    }
    if (scenarios.has('steady')) {
      for (const rate of [50, 200]) {
        // Each rate starts on a quiet system: what the storm (or the rate before) left queued
        // (timeline entries, delivery reports) is handled first.
        await settleWorld(world, () => new Date(), 10 * 60_000);
        const count = rate * steadySeconds;
        const keysOf = Array.from({ length: count }, (_, i) => `steady-${rate}-${i}`);
        const acceptedAt = new Map<string, number>();
        const sentAt = new Map<string, number>();
        const tap = await world.tap('alerts', 'incidents', 'pages');
        const row = await client.steady(
          rate,
          steadySeconds,
          (i) => (sentAt.set(keysOf[i]!, Date.now()), send(keysOf[i]!, i)),
          '',
          (i, status) => {
            if (status < 300) acceptedAt.set(keysOf[i]!, Date.now());
          },
        );
        await eventually(async () => keysOf.every((k) => firstPage.at(k) !== undefined), { timeoutMs: 10 * 60_000, intervalMs: 250, what: `${count} pages` });
        const latencies = keysOf.map((k) => firstPage.at(k)! - acceptedAt.get(k)!);
        const line = `Klaxon steady ${rate} new incidents/s for ${steadySeconds} s (${row.accepted} accepted): accepted → first page ${quantiles(latencies)}`;
        console.log(line);
        out.push(line);
        printHops(
          keysOf.map((key) => ({ key, receivedAt: firstPage.at(key)! })),
          sentAt,
          tap.messages,
        );
        await tap.stop();
        // Inside notifier: page requested → notification recorded → send started → provider answered.
        const [inside] = await queryDb<Record<string, number>>(
          world.databaseUrl('notifier'),
          `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - (page->>'requestedAt')::timestamptz)) * 1000 AS recorded,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000 AS started,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - started_at)) * 1000 AS sent
           FROM notifications WHERE kind = 'page' AND page->>'title' LIKE $1`,
          [`Bench steady-${rate}-%`],
        );
        console.log(
          `  inside notifier (p50): page requested → recorded ${inside?.recorded?.toFixed(0)} ms, → send started ${inside?.started?.toFixed(0)} ms, → provider answered ${inside?.sent?.toFixed(0)} ms`,
        );
      }
    }
    client.close();
    if (profile) await Promise.all(Object.values(procs).map((p) => p.stop('SIGTERM')));
  } finally {
    await world.close();
    await smtp.stop();
  }
  return out;
}

/** 20 people on 10 two-person daily rotations; 100 services, each paging one rotation; one Events API v2 integration per service. */
async function buildWorld(oncall: Api, ingest: Api): Promise<string[]> {
  const people = [];
  for (let i = 0; i < PEOPLE; i++) people.push(await expectOk(oncall.post('/api/v1/users', { name: `Person ${i}`, email: `person-${i}@example.com` })));
  const policies = [];
  for (let s = 0; s < SCHEDULES; s++) {
    const schedule = await expectOk(
      oncall.post('/api/v1/schedules', {
        name: `Rotation ${s}`,
        timeZone: 'UTC',
        layers: [{ name: 'daily', participants: [people[2 * s]!.id, people[2 * s + 1]!.id], turn: { unit: 'days', count: 1 }, startDate: '2026-01-05' }],
      }),
    );
    policies.push(
      await expectOk(
        oncall.post('/api/v1/escalation-policies', {
          name: `Policy ${s}`,
          repeatCount: 0,
          steps: [{ delayMinutes: 30, targets: [{ type: 'schedule', id: schedule.id }] }],
        }),
      ),
    );
  }
  const keys: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const service = await expectOk(oncall.post('/api/v1/services', { name: `Service ${i}`, escalationPolicyId: policies[i % SCHEDULES]!.id }));
    // alert-ingest learns of the service from oncall's events: retry until it has.
    const integration = await retryUntilOk(() => ingest.post('/api/v1/integrations', { serviceId: service.id, type: 'events-api-v2', name: 'bench' }));
    keys.push(integration.key as string);
  }
  return keys;
}

async function retryUntilOk<T = any>(call: () => Promise<{ status: number; body: T }>): Promise<T> {
  let last: { status: number; body: T } | undefined;
  await eventually(
    async () => {
      last = await call();
      return last.status < 300;
    },
    { timeoutMs: 60_000, what: 'an integration' },
  );
  return last!.body;
}

/** Samples each process's resident memory every 200 ms (Linux). */
class PeakRss {
  private readonly peak = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(pids: Map<number, string>) {
    this.timer = setInterval(() => {
      for (const [pid, name] of pids) {
        try {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
          this.peak.set(name, Math.max(this.peak.get(name) ?? 0, kb));
        } catch {
          // not on Linux, or the process ended
        }
      }
    }, 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  summary(): string {
    return [...this.peak].map(([name, kb]) => `${name} ${(kb / 1024).toFixed(0)} MB`).join(', ') || 'not measured (no /proc)';
  }
}

/** Committed transactions so far in each service's database. */
async function commits(world: TestWorld): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of ['alert-ingest', 'incidents', 'oncall', 'notifier']) {
    const url = world.databaseUrl(name);
    const [row] = await queryDb<{ n: string }>(url, 'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
    out.set(name, Number(row?.n ?? 0));
  }
  return out;
}

function cpuPerIncident(before: CpuSample | undefined, after: CpuSample | undefined, n: number): string {
  if (!before || !after) return 'not measured (no /proc)';
  const parts = [...after.keys()].map((k) => ({ k, us: (((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1e6) / n }));
  const total = parts.reduce((a, p) => a + p.us, 0);
  return `${parts.map((p) => `${p.k} ${(p.us / 1000).toFixed(2)} ms`).join(', ')}; ${(total / 1000).toFixed(2)} ms in all`;
}

function quantiles(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
  return `p50 ${q(50).toFixed(0)} ms, p99 ${q(99).toFixed(0)} ms, max ${(s[s.length - 1] ?? 0).toFixed(0)} ms`;
}

/** Prometheus Alertmanager with group_wait 0s and a webhook receiver here: alert posted → webhook received. */
async function alertmanager(stormCount: number, steadySeconds: number): Promise<string[]> {
  const out: string[] = [];
  const received = new Map<string, number>();
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { alerts: { labels: Record<string, string> }[] };
        for (const a of body.alerts) if (a.labels.key && !received.has(a.labels.key)) received.set(a.labels.key, now);
      } catch {
        // not a webhook body
      }
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
  // One group per alert (group_by: key), sent at once: the closest Alertmanager gets to "page each new alert now".
  const am = await new Alertmanager(
    `route:\n  receiver: hook\n  group_by: [key]\n  group_wait: 0s\n  group_interval: 5m\n  repeat_interval: 4h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${hookUrl}\n        send_resolved: false\n`,
  ).start();
  try {
    const client = new Client([am.url], 64);
    const alert = (key: string) => ({
      path: '/api/v2/alerts',
      body: JSON.stringify([{ labels: { alertname: 'Bench', key }, annotations: { summary: `Bench ${key}` } }]),
    });
    await client.run(200, (i) => alert(`warm-${i}`));
    await eventually(async () => received.size >= 200, { timeoutMs: 60_000, what: 'Alertmanager warm-up' });
    const keysOf = Array.from({ length: stormCount }, (_, i) => `storm-${i}`);
    const acceptedAt = new Map<string, number>();
    const pids = new Map([[am.pid!, 'Alertmanager']]);
    const before = cpuSample(pids);
    const t0 = Date.now();
    const row = await client.run(
      stormCount,
      (i) => alert(keysOf[i]!),
      '',
      1,
      (i, status) => {
        if (status < 300) acceptedAt.set(keysOf[i]!, Date.now());
      },
    );
    const lastAccepted = Date.now();
    await eventually(async () => keysOf.every((k) => received.has(k)), { timeoutMs: 10 * 60_000, intervalMs: 250, what: 'Alertmanager storm webhooks' });
    const after = cpuSample(pids);
    const done = Math.max(...keysOf.map((k) => received.get(k)!));
    out.push(
      `Alertmanager 0.25 storm: ${row.accepted} alerts accepted in ${((lastAccepted - t0) / 1000).toFixed(1)} s (${row.perSecond.toFixed(0)}/s)`,
      `  every webhook ${((done - lastAccepted) / 1000).toFixed(1)} s after the last accepted alert; ${((stormCount * 1000) / (done - t0)).toFixed(0)} alerts/s end to end`,
      `  accepted → webhook: ${quantiles(keysOf.map((k) => received.get(k)! - acceptedAt.get(k)!))}`,
      `  CPU per alert: ${cpuPerIncident(before, after, stormCount)}`,
    );
    console.log(out.join('\n'));
    if (steadySeconds > 0) {
      for (const rate of [50, 200]) {
        const keys = Array.from({ length: rate * steadySeconds }, (_, i) => `steady-${rate}-${i}`);
        const at = new Map<string, number>();
        await client.steady(
          rate,
          steadySeconds,
          (i) => alert(keys[i]!),
          '',
          (i, status) => {
            if (status < 300) at.set(keys[i]!, Date.now());
          },
        );
        await eventually(async () => keys.every((k) => received.has(k)), { timeoutMs: 5 * 60_000, intervalMs: 250, what: 'Alertmanager steady webhooks' });
        const line = `Alertmanager steady ${rate} alerts/s for ${steadySeconds} s: accepted → webhook ${quantiles(keys.map((k) => received.get(k)! - at.get(k)!))}`;
        console.log(line);
        out.push(line);
      }
    }
    client.close();
  } finally {
    await am.stop();
    await new Promise<void>((r) => hook.close(() => r()));
  }
  return out;
}
