import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/**
 * The durable floor for intake: a bare Node HTTP server that parses each event, upserts it into
 * PostgreSQL and answers 202 only after the commit, with requests that arrive while a commit is in
 * flight committed together (group commit). No framework, no validation, no outbox: what one
 * process on this machine can durably accept, for `npm run bench -- ingest` to set Klaxon beside.
 *
 *   node floor-server.js <database url>   (prints "listening on http://…")
 */
const url = process.argv[2];
if (!url) throw new Error('usage: floor-server <database url>');
const pool = new pg.Pool({ connectionString: url, max: 4 });
await pool.query(
  `CREATE TABLE IF NOT EXISTS floor_events (dedup_key text PRIMARY KEY, body jsonb NOT NULL, count int NOT NULL DEFAULT 1, updated_at timestamptz NOT NULL DEFAULT now())`,
);

interface Pending {
  key: string;
  body: string;
  done: (ok: boolean) => void;
}
let queue: Pending[] = [];
let inFlight = 0;

async function flush(): Promise<void> {
  if (queue.length === 0 || inFlight >= 2) return;
  const batch = queue;
  queue = [];
  inFlight++;
  try {
    // Later duplicates in one batch fold into the first (ON CONFLICT cannot touch a row twice).
    const byKey = new Map<string, { body: string; n: number }>();
    for (const p of batch) {
      const e = byKey.get(p.key);
      if (e) e.n++;
      else byKey.set(p.key, { body: p.body, n: 1 });
    }
    await pool.query(
      `INSERT INTO floor_events (dedup_key, body, count) SELECT k, b::jsonb, n FROM unnest($1::text[], $2::text[], $3::int[]) AS t(k, b, n)
       ON CONFLICT (dedup_key) DO UPDATE SET count = floor_events.count + EXCLUDED.count, updated_at = now()`,
      [[...byKey.keys()], [...byKey.values()].map((v) => v.body), [...byKey.values()].map((v) => v.n)],
    );
    for (const p of batch) p.done(true);
  } catch {
    for (const p of batch) p.done(false);
  } finally {
    inFlight--;
    void flush();
  }
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    let events: { key: string; body: string }[];
    try {
      const parsed = JSON.parse(body) as { dedup_key?: string; alerts?: { fingerprint?: string }[] };
      // A PagerDuty v2 event, or an Alertmanager webhook batch (one row per alert).
      events = parsed.alerts ? parsed.alerts.map((a) => ({ key: String(a.fingerprint), body: JSON.stringify(a) })) : [{ key: String(parsed.dedup_key), body }];
    } catch {
      res.writeHead(400).end();
      return;
    }
    let left = events.length;
    let failed = false;
    for (const e of events)
      queue.push({
        ...e,
        done: (ok) => {
          failed ||= !ok;
          if (--left === 0) res.writeHead(failed ? 503 : 202).end();
        },
      });
    void flush();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
