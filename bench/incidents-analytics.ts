import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { TestWorld, type Api } from '#libs/testing';
import { incidentsService } from '../apps/incidents/src/service.js';

/**
 * incidents' analytics and lists on 100,000 incidents:
 *  1. generates a deterministic data set (20 services in 5 teams, 90 days, 1–6 alerts each, SLA
 *     clocks with goals for P1–P3) straight into a running incidents service's database;
 *  2. times each analytics query and the main list queries through the HTTP API (p50, min, max);
 *  3. checks the figures the API returns against the generator's own arithmetic (MTTA/MTTR mean,
 *     p50, p90 per service; incidents and alerts per service; SLA attainment per service).
 *
 *   npm run bench -- incidents-analytics [incidents=100000] [runs=7]
 */
export default async function incidentsAnalyticsBench(args: string[]): Promise<void> {
  const count = Number(args[0] ?? 100_000);
  const runs = Number(args[1] ?? 7);
  const world = new TestWorld();
  try {
    const svc = await world.start(incidentsService, { env: { LOG_LEVEL: 'warn' } });
    const db = svc.runtime.dataSource;
    const t0 = performance.now();
    const data = generate(count);
    await load(db, data);
    console.log(
      `\nGenerated and loaded ${count.toLocaleString('en')} incidents, ${data.alerts.toLocaleString('en')} alerts and ${(count * 2).toLocaleString('en')} SLA clocks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const window = `from=${encodeURIComponent(new Date(BASE - 91 * DAY).toISOString())}&to=${encodeURIComponent(new Date(BASE + DAY).toISOString())}`;
    const service0 = data.services[0]!.id;
    const assignee = data.users[3]!;
    const lastWeek = `from=${encodeURIComponent(new Date(BASE - 7 * DAY).toISOString())}&to=${encodeURIComponent(new Date(BASE).toISOString())}`;
    const queries: [string, string][] = [
      ['MTTA/MTTR, all incidents', `/api/v1/analytics/response-times?${window}`],
      ['MTTA/MTTR per service', `/api/v1/analytics/response-times?${window}&groupBy=service`],
      ['MTTA/MTTR per team', `/api/v1/analytics/response-times?${window}&groupBy=team`],
      ['MTTA/MTTR per priority', `/api/v1/analytics/response-times?${window}&groupBy=priority`],
      ['MTTA/MTTR per week (Europe/Paris)', `/api/v1/analytics/response-times?${window}&groupBy=week&timeZone=Europe/Paris`],
      ['MTTA/MTTR per day, one service', `/api/v1/analytics/response-times?${window}&groupBy=day&serviceId=${service0}`],
      ['MTTA/MTTR, one team, last 7 days', `/api/v1/analytics/response-times?${lastWeek}&teamId=${data.teams[1]!.id}`],
      ['incidents and alerts per service, alerts per incident', `/api/v1/analytics/volume?${window}`],
      ['SLA attainment per service', `/api/v1/analytics/sla?${window}&groupBy=service`],
      ['SLA attainment per priority', `/api/v1/analytics/sla?${window}&groupBy=priority`],
      ['list: open incidents, newest 50', `/api/v1/incidents?status=triggered,acknowledged&limit=50`],
      ['list: one service, P1, newest 50', `/api/v1/incidents?serviceId=${service0}&priority=P1&limit=50`],
      ['list: assigned to one user', `/api/v1/incidents?assignee=${assignee}&limit=50`],
      ['list: major incidents', `/api/v1/incidents?major=true&limit=50`],
      ['list: last 7 days, 500 per page', `/api/v1/incidents?${lastWeek}&limit=500`],
    ];
    const api = svc.api;
    const rows: string[][] = [['query (HTTP, through the API)', 'rows', 'p50 ms', 'min ms', 'max ms']];
    for (const [label, path] of queries) {
      const first = await get(api, path);
      const n = Array.isArray(first) ? first.length : (first as { rows: unknown[] }).rows.length;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        await get(api, path);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      rows.push([label, String(n), fmt(times[Math.floor(times.length / 2)]!), fmt(times[0]!), fmt(times[times.length - 1]!)]);
    }
    // Deep pagination: the 20th page of all incidents, following cursors.
    const s = performance.now();
    let path: string | null = '/api/v1/incidents?limit=100';
    for (let page = 0; page < 20 && path; page++) {
      const res: { headers: Headers } = await api.get(path);
      const link: string | null = res.headers.get('link');
      path = link ? link.slice(1, link.indexOf('>')) : null;
    }
    rows.push(['list: 20 pages of 100 following cursors (total)', '2000', fmt(performance.now() - s), '', '']);
    printTable(rows);
    console.log(
      `(${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} while measuring: figures on a shared machine include waiting for a core)`,
    );

    verify(
      data,
      await get(api, `/api/v1/analytics/response-times?${window}&groupBy=service`),
      await get(api, `/api/v1/analytics/volume?${window}`),
      await get(api, `/api/v1/analytics/sla?${window}&groupBy=service`),
    );
  } finally {
    await world.close();
  }
}

const BASE = Date.parse('2025-06-01T00:00:00Z');
const DAY = 86_400_000;
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
const ACK_GOAL = [300, 900, 1800, null, null];
const RESOLVE_GOAL = [3600, 4 * 3600, 8 * 3600, null, null];

interface Generated {
  teams: { id: string; name: string }[];
  services: { id: string; name: string; teamId: string }[];
  users: string[];
  incidents: {
    id: string;
    number: number;
    serviceId: string;
    teamId: string;
    priority: number;
    createdAt: number;
    tta: number | null;
    ttr: number | null;
    alertCount: number;
    major: boolean;
    assignee: string;
  }[];
  alerts: number;
}

/** A small deterministic PRNG (mulberry32), so every run generates the same data set. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(count: number): Generated {
  const rnd = prng(42);
  const teams = Array.from({ length: 5 }, (_, i) => ({ id: randomUUID(), name: `Team ${i + 1}` }));
  const services = Array.from({ length: 20 }, (_, i) => ({ id: randomUUID(), name: `Service ${String(i + 1).padStart(2, '0')}`, teamId: teams[i % 5]!.id }));
  const users = Array.from({ length: 50 }, () => randomUUID());
  let alerts = 0;
  const incidents: Generated['incidents'] = [];
  for (let n = 1; n <= count; n++) {
    // Some services are much noisier than others.
    const service = services[Math.floor(rnd() ** 2 * services.length)]!;
    const priority = [0, 1, 1, 2, 2, 2, 3, 3, 4][Math.floor(rnd() * 9)]!;
    const createdAt = BASE - Math.floor(rnd() * 90 * DAY) - 1000;
    // Whole seconds: timestamps round-trip through PostgreSQL exactly.
    const tta = rnd() < 0.85 ? Math.round(15 + Math.exp(rnd() * 8)) : null;
    const ttr = rnd() < 0.95 ? (tta ?? 0) + Math.round(60 + Math.exp(rnd() * 10)) : null;
    const alertCount = 1 + Math.floor(rnd() ** 3 * 6);
    alerts += alertCount;
    incidents.push({
      id: randomUUID(),
      number: n,
      serviceId: service.id,
      teamId: service.teamId,
      priority,
      createdAt,
      tta,
      ttr,
      alertCount,
      major: rnd() < 0.01,
      assignee: users[Math.floor(rnd() * users.length)]!,
    });
  }
  return { teams, services, users, incidents, alerts };
}

async function load(db: DataSource, g: Generated): Promise<void> {
  const now = new Date(BASE);
  for (const t of g.teams) await db.query('INSERT INTO teams (id, name, updated_at) VALUES ($1, $2, $3)', [t.id, t.name, now]);
  for (const s of g.services) {
    await db.query(
      `INSERT INTO services (id, name, team_id, urgency_rule, grouping, ack_timeout_seconds, auto_resolve_on_alert_resolve, auto_resolve_timeout_seconds, updated_at)
       VALUES ($1, $2, $3, '{"type":"constant","urgency":"high"}', '{"mode":"none"}', 1800, true, NULL, $4)`,
      [s.id, s.name, s.teamId, now],
    );
  }
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  for (let i = 0; i < g.incidents.length; i += 5000) {
    const batch = g.incidents.slice(i, i + 5000);
    const col = <T>(f: (x: (typeof batch)[number]) => T): T[] => batch.map(f);
    const ackAt = (x: (typeof batch)[number]): number | null => (x.tta === null ? null : x.createdAt + x.tta * 1000);
    const resAt = (x: (typeof batch)[number]): number | null => (x.ttr === null ? null : x.createdAt + x.ttr * 1000);
    await db.query(
      `INSERT INTO incidents (id, number, service_id, team_id, title, status, priority, urgency, alert_count, created_at, updated_at, last_activity_at,
         acknowledged_at, first_acknowledged_at, resolved_at, major, assignees)
       SELECT id, number, service_id, team_id, 'Generated incident #' || number, CASE WHEN res IS NOT NULL THEN 'resolved' WHEN ack IS NOT NULL THEN 'acknowledged' ELSE 'triggered' END,
         priority, 'high', alert_count, created, coalesce(res, ack, created), coalesce(res, ack, created), ack, ack, res, major, ARRAY[assignee]
       FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::boolean[], $11::uuid[])
         AS t(id, number, service_id, team_id, priority, alert_count, created, ack, res, major, assignee)`,
      [
        col((x) => x.id),
        col((x) => x.number),
        col((x) => x.serviceId),
        col((x) => x.teamId),
        col((x) => PRIORITIES[x.priority]),
        col((x) => x.alertCount),
        col((x) => iso(x.createdAt)),
        col((x) => iso(ackAt(x))),
        col((x) => iso(resAt(x))),
        col((x) => x.major),
        col((x) => x.assignee),
      ],
    );
    await db.query(
      `INSERT INTO incident_alerts (alert_id, incident_id, service_id, dedup_key, summary, severity, status, created_at)
       SELECT gen_random_uuid(), id, service_id, 'gen-' || number || '-' || k, 'Generated alert', 'critical', 'triggered', created + make_interval(secs => k)
       FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::int[], $5::timestamptz[]) AS t(id, number, service_id, alert_count, created), generate_series(1, alert_count) AS k`,
      [col((x) => x.id), col((x) => x.number), col((x) => x.serviceId), col((x) => x.alertCount), col((x) => iso(x.createdAt))],
    );
    // SLA clocks as the service keeps them: stopped at the first acknowledgement (or resolution) and at resolution, breached when late or still running past due.
    for (const goal of ['acknowledge', 'resolve'] as const) {
      const target = (x: (typeof batch)[number]): number | null => (goal === 'acknowledge' ? ACK_GOAL : RESOLVE_GOAL)[x.priority]!;
      const stopped = (x: (typeof batch)[number]): number | null => (goal === 'acknowledge' ? (ackAt(x) ?? resAt(x)) : resAt(x));
      const breached = (x: (typeof batch)[number]): number | null => {
        const t = target(x);
        if (t === null) return null;
        const due = x.createdAt + t * 1000;
        return (stopped(x) ?? BASE) >= due ? due : null;
      };
      await db.query(
        `INSERT INTO incident_slas (incident_id, goal, target_seconds, started_at, stopped_at, breached_at)
         SELECT id, $1, target, started, stopped, breached FROM unnest($2::uuid[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[]) AS t(id, target, started, stopped, breached)`,
        [goal, col((x) => x.id), col(target), col((x) => iso(x.createdAt)), col((x) => iso(stopped(x))), col((x) => iso(breached(x)))],
      );
    }
  }
  await db.query(`SELECT setval('incident_number_seq', $1)`, [g.incidents.length]);
  await db.query('ANALYZE');
}

// ---- checking the API's figures against the generator's ------------------------------------------

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stats(values: number[]): { mean: number | null; p50: number | null; p90: number | null } {
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) };
}

function verify(g: Generated, times: any, volume: any, sla: any): void {
  const problems: string[] = [];
  const close = (what: string, actual: number | null, expected: number | null, tolerance = 0.01): void => {
    if (actual === null || expected === null ? actual !== expected : Math.abs(actual - expected) > tolerance)
      problems.push(`${what}: API ${actual}, expected ${expected}`);
  };
  let checks = 0;
  for (const s of g.services) {
    const mine = g.incidents.filter((i) => i.serviceId === s.id);
    const row = times.rows.find((r: { key: string }) => r.key === s.id);
    const vol = volume.rows.find((r: { serviceId: string }) => r.serviceId === s.id);
    const slaRow = sla.rows.find((r: { key: string }) => r.key === s.id);
    if (!row || !vol || !slaRow) {
      problems.push(`${s.name}: missing from the answers`);
      continue;
    }
    const tta = stats(mine.filter((i) => i.tta !== null).map((i) => i.tta!));
    const ttr = stats(mine.filter((i) => i.ttr !== null).map((i) => i.ttr!));
    close(`${s.name} incidents`, row.incidents, mine.length, 0);
    for (const k of ['mean', 'p50', 'p90'] as const) {
      close(`${s.name} MTTA ${k}`, row.mtta[k], tta[k]);
      close(`${s.name} MTTR ${k}`, row.mttr[k], ttr[k]);
    }
    const alerts = mine.reduce((n, i) => n + i.alertCount, 0);
    close(`${s.name} alerts`, vol.alerts, alerts, 0);
    close(`${s.name} alerts per incident`, vol.alertsPerIncident, alerts / mine.length, 0.001);
    for (const goal of ['acknowledge', 'resolve'] as const) {
      const withGoal = mine.filter((i) => (goal === 'acknowledge' ? ACK_GOAL : RESOLVE_GOAL)[i.priority] !== null);
      const target = (i: (typeof mine)[number]): number => (goal === 'acknowledge' ? ACK_GOAL : RESOLVE_GOAL)[i.priority]!;
      const stop = (i: (typeof mine)[number]): number | null => (goal === 'acknowledge' ? (i.tta ?? i.ttr) : i.ttr);
      const breached = withGoal.filter((i) => (stop(i) ?? (BASE - i.createdAt) / 1000) >= target(i)).length;
      const met = withGoal.filter((i) => stop(i) !== null && stop(i)! < target(i)).length;
      close(`${s.name} SLA ${goal} total`, slaRow[goal].total, withGoal.length, 0);
      close(`${s.name} SLA ${goal} attainment`, slaRow[goal].attainment, met + breached ? met / (met + breached) : null, 0.000001);
    }
    checks += 14;
  }
  console.log(
    problems.length
      ? `\nFigures DIFFER from the generator's arithmetic (${problems.length} of ${checks} checks):\n  ${problems.slice(0, 20).join('\n  ')}`
      : `\nFigures match the generator's own arithmetic: ${checks} checks over ${g.services.length} services (MTTA/MTTR mean, p50, p90; incidents, alerts, alerts per incident; SLA totals and attainment).`,
  );
}

// ---- helpers ------------------------------------------------------------------------------------

async function get(api: Api, path: string): Promise<any> {
  const res = await api.get(path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log('');
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
