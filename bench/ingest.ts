import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDatabase } from '#libs/database';
import { Alertmanager, TestWorld, expectOk, queryDb } from '#libs/testing';
import { Client, cpuPerEvent, cpuSample, table, type Row } from './support/load.js';

/**
 * Alert intake: accepted events per second and accept latency (HTTP 2xx, which Klaxon answers
 * only after the event is committed), for unique and duplicate events, and at a steady 1,000/s.
 * Afterwards it checks that every accepted event is in PostgreSQL. When prometheus-alertmanager
 * is installed, the same client measures Alertmanager's own intake (POST /api/v2/alerts, in
 * memory) on the same machine, side by side, and so does the durable floor (bench/support/
 * floor-server.ts: a bare Node server doing one group-committed upsert per event); it prints
 * Klaxon's ratios to both.
 *
 *   npm run bench -- ingest [events=20000] [concurrency=64] [scenarios=unique,duplicate,batch,steady]
 */
export default async function ingestBench(args: string[]): Promise<void> {
  const total = Number(args[0] ?? 20000);
  const concurrency = Number(args[1] ?? 64);
  const only = new Set((args[2] ?? 'unique,duplicate,batch,steady').split(','));
  const world = new TestWorld();
  const rows: Row[] = [];
  try {
    // KLAXON_BENCH_PROFILE=<dir>: runs alert-ingest with --import=<dir>/start.mjs (a profiler of your own), stopped cleanly before the comparison.
    const profile = process.env.KLAXON_BENCH_PROFILE;
    // INGEST_* variables in the bench's environment (INGEST_WRITERS, INGEST_MAX_BATCH…) go to alert-ingest, for tuning.
    const tuning = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('INGEST_') && e[1] !== undefined));
    const ingest = await world.spawn('alert-ingest', { LOG_LEVEL: 'warn', ...tuning, ...(profile ? { NODE_OPTIONS: `--import=${profile}/start.mjs` } : {}) });
    // KLAXON_BENCH_INGEST_INSTANCES=n: n alert-ingest processes on one database (as behind a load balancer); the client spreads requests over them.
    const more = Math.max(0, Number(process.env.KLAXON_BENCH_INGEST_INSTANCES ?? 1) - 1);
    const others = await Promise.all(Array.from({ length: more }, () => world.spawn('alert-ingest', { LOG_LEVEL: 'warn', ...tuning })));
    const admin = ingest.api;
    const serviceId = '00000000-0000-4000-8000-000000000001';
    const pd = await expectOk(admin.post('/api/v1/integrations', { serviceId, type: 'events-api-v2', name: 'bench PagerDuty' }));
    const am = await expectOk(admin.post('/api/v1/integrations', { serviceId, type: 'alertmanager', name: 'bench Alertmanager' }));
    const client = new Client([ingest.url, ...others.map((o) => o.url)], concurrency);
    const pdEvent = (key: string) =>
      JSON.stringify({
        routing_key: pd.key,
        event_action: 'trigger',
        dedup_key: key,
        payload: { summary: `Bench alert ${key}`, source: 'bench', severity: 'critical' },
      });
    const amBatch = (from: number, n: number) =>
      JSON.stringify({
        version: '4',
        status: 'firing',
        receiver: 'klaxon',
        groupKey: '{}:{}',
        alerts: Array.from({ length: n }, (_, i) => ({
          status: 'firing',
          labels: { alertname: 'Bench', instance: `host-${from + i}` },
          annotations: { summary: `Bench ${from + i}` },
          startsAt: '2024-05-01T10:00:00Z',
          fingerprint: (from + i).toString(16).padStart(16, '0'),
        })),
      });

    await client.run(200, (i) => ({ path: '/v2/enqueue', body: pdEvent(`warm-${i}`) })); // warm-up: connections, JIT, caches
    const batch = 100;
    const klaxon: Partial<Record<'unique' | 'duplicate' | 'batch' | 'steady', Row>> = {};
    let cpu: string | undefined;
    let amCpu: string | undefined;
    if (only.has('unique')) {
      const ingestPids = new Map([ingest.pid, ...others.map((o) => o.pid)].filter((p): p is number => p !== undefined).map((p) => [p, 'alert-ingest']));
      const before = cpuSample(ingestPids);
      klaxon.unique = await client.run(total, (i) => ({ path: '/v2/enqueue', body: pdEvent(`u-${i}`) }), 'Klaxon PagerDuty v2, unique events, 1 per request');
      cpu = before && cpuPerEvent(before, cpuSample(ingestPids)!, klaxon.unique.accepted);
    }
    if (only.has('duplicate'))
      klaxon.duplicate = await client.run(
        total,
        (i) => ({ path: '/v2/enqueue', body: pdEvent(`dup-${i % 10}`) }),
        'Klaxon PagerDuty v2, duplicates of 10 keys',
      );
    if (only.has('batch')) {
      klaxon.batch = await client.run(
        Math.ceil(total / batch),
        (i) => ({ path: `/integrations/alertmanager/${am.key}`, body: amBatch(i * batch, batch) }),
        `Klaxon Alertmanager webhook, unique, ${batch} per request`,
        batch,
      );
    }
    if (only.has('steady'))
      klaxon.steady = await client.steady(
        1000,
        10,
        (i) => ({ path: '/v2/enqueue', body: pdEvent(`steady-${i}`) }),
        'Klaxon PagerDuty v2 at a steady 1,000 events/s for 10 s',
      );
    rows.push(...Object.values(klaxon));

    // Durability: every accepted event is in PostgreSQL.
    const db = world.databaseUrl('alert-ingest');
    const [u] = await queryDb(db, `SELECT count(*)::int AS n FROM alerts WHERE dedup_key LIKE 'u-%'`);
    const [d] = await queryDb(db, `SELECT coalesce(sum(count), 0)::int AS n FROM alerts WHERE dedup_key LIKE 'dup-%'`);
    const [a] = await queryDb(db, `SELECT count(*)::int AS n FROM alerts WHERE integration_type = 'alertmanager'`);
    const [s] = await queryDb(db, `SELECT count(*)::int AS n FROM alerts WHERE dedup_key LIKE 'steady-%'`);
    console.log(
      `durable (stored/accepted): unique ${u.n}/${klaxon.unique?.accepted ?? 0}, duplicates counted ${d.n}/${klaxon.duplicate?.accepted ?? 0}, ` +
        `Alertmanager alerts ${a.n}/${klaxon.batch?.accepted ?? 0}, steady ${s.n}/${klaxon.steady?.accepted ?? 0}`,
    );
    const metrics = String((await admin.get('/metrics')).body);
    const sum = Number(/^klaxon_ingest_batch_requests_sum\S* (\S+)$/m.exec(metrics)?.[1] ?? 0);
    const count = Number(/^klaxon_ingest_batch_requests_count\S* (\S+)$/m.exec(metrics)?.[1] ?? 0);
    console.log(`group commit: ${count} transactions for ${sum} requests (${(sum / Math.max(1, count)).toFixed(1)} requests per commit on average)`);
    client.close();
    if (profile) await ingest.stop('SIGTERM');

    // The durable floor: a bare Node server doing one group-committed upsert per event, same client, same database, same cores.
    const floor = only.has('unique') || only.has('batch') ? await startFloor(world) : undefined;
    const floorRows: Partial<Record<'unique' | 'batch', Row>> = {};
    if (floor) {
      try {
        const floorClient = new Client([floor.url], concurrency);
        await floorClient.run(200, (i) => ({ path: '/', body: pdEvent(`floor-warm-${i}`) }));
        if (only.has('unique'))
          floorRows.unique = await floorClient.run(
            total,
            (i) => ({ path: '/', body: pdEvent(`floor-u-${i}`) }),
            'Durable floor (bare Node + group-committed upsert), 1 per request',
          );
        if (only.has('batch'))
          floorRows.batch = await floorClient.run(
            Math.ceil(total / batch),
            (i) => ({ path: '/', body: amBatch(5e6 + i * batch, batch) }),
            `Durable floor, Alertmanager batches of ${batch}`,
            batch,
          );
        floorClient.close();
        rows.push(...Object.values(floorRows));
      } finally {
        floor.stop();
      }
    }

    let amBatchRow: Row | undefined;
    if (Alertmanager.installed() && !profile) {
      const amProc = await new Alertmanager(`route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n`).start();
      try {
        const amClient = new Client([amProc.url], concurrency);
        const amAlert = (i: number) => ({ labels: { alertname: 'Bench', instance: `host-${i}` }, annotations: { summary: `Bench ${i}` } });
        await amClient.run(200, (i) => ({ path: '/api/v2/alerts', body: JSON.stringify([amAlert(1e9 + i)]) }));
        if (only.has('unique')) {
          const amPids = new Map(amProc.pid === undefined ? [] : [[amProc.pid, 'Alertmanager']]);
          const before = cpuSample(amPids);
          const row = await amClient.run(
            total,
            (i) => ({ path: '/api/v2/alerts', body: JSON.stringify([amAlert(i)]) }),
            'Alertmanager 0.25 API v2, unique alerts, 1 per request',
          );
          rows.push(row);
          amCpu = before && cpuPerEvent(before, cpuSample(amPids)!, row.accepted, ['Alertmanager', 'bench client', 'soft interrupts']);
        }
        if (only.has('duplicate'))
          rows.push(
            await amClient.run(
              total,
              (i) => ({ path: '/api/v2/alerts', body: JSON.stringify([amAlert(i % 10)]) }),
              'Alertmanager 0.25 API v2, duplicates of 10 alerts',
            ),
          );
        if (only.has('batch'))
          rows.push(
            (amBatchRow = await amClient.run(
              Math.ceil(total / batch),
              (i) => ({ path: '/api/v2/alerts', body: JSON.stringify(Array.from({ length: batch }, (_, j) => amAlert(2e6 + i * batch + j))) }),
              `Alertmanager 0.25 API v2, unique, ${batch} per request`,
              batch,
            )),
          );
        if (only.has('steady'))
          rows.push(
            await amClient.steady(
              1000,
              10,
              (i) => ({ path: '/api/v2/alerts', body: JSON.stringify([amAlert(3e6 + i)]) }),
              'Alertmanager 0.25 API v2 at a steady 1,000 alerts/s for 10 s',
            ),
          );
        amClient.close();
      } finally {
        await amProc.stop();
      }
    } else {
      console.log('prometheus-alertmanager is not installed: no side-by-side figures (apt-get install -y prometheus-alertmanager)');
    }
    console.log(
      `\n${total} events per run, ${concurrency} concurrent requests, one client process on this machine (${(await import('node:os')).cpus().length} CPUs)\n`,
    );
    console.log(table(rows));
    const ratio = (a?: Row, b?: Row) => (a && b ? `${(a.perSecond / b.perSecond).toFixed(2)}` : 'not measured');
    console.log(
      `\nKlaxon Alertmanager batches ÷ Alertmanager's own in-memory intake of the same batches: ${ratio(klaxon.batch, amBatchRow)} (target ≥ 1)` +
        `\nKlaxon PagerDuty v2 per request ÷ the durable floor: ${ratio(klaxon.unique, floorRows.unique)} (target ≥ 0.8)` +
        `\nKlaxon Alertmanager batches ÷ the durable floor's batches: ${ratio(klaxon.batch, floorRows.batch)}` +
        (klaxon.steady ? `\nKlaxon steady 1,000/s p99: ${klaxon.steady.p99.toFixed(1)} ms (target < 50 ms)` : ''),
    );
    if (cpu) console.log(`\nCPU per accepted unique event (from /proc, over the whole unique run): Klaxon: ${cpu}`);
    if (amCpu) console.log(`Alertmanager: ${amCpu}`);
  } finally {
    await world.close();
  }
}

/** Runs bench/support/floor-server.ts as its own process on a fresh database of this world. */
async function startFloor(world: TestWorld): Promise<{ url: string; stop: () => void }> {
  const db = world.databaseUrl('floor');
  await ensureDatabase(db);
  const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'support/floor-server.js'), db], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGKILL') };
}
