import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** CPU time so far (seconds) by who spent it: the service, PostgreSQL, Kafka, this client, the kernel's soft interrupts (mostly loopback networking). Linux only. */
export type CpuSample = Map<string, number>;

export function cpuSample(services: Map<number, string>): CpuSample | undefined {
  if (!fs.existsSync('/proc/stat')) return undefined;
  const hz = 100; // USER_HZ: 100 on every Linux this runs on
  const out: CpuSample = new Map();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(f[11]) + Number(f[12])) / hz;
      const pid = Number(entry);
      const service = services.get(pid);
      if (service) add(service, seconds);
      else if (pid === process.pid) add('bench client', seconds);
      else if (cmd.startsWith('postgres')) add('PostgreSQL', seconds);
      else if (cmd.includes('java') && cmd.includes('kafka')) add('Kafka', seconds);
    } catch {
      // the process ended meanwhile
    }
  }
  const softirq = Number(fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)[7]);
  add('soft interrupts', softirq / hz);
  return out;
}

export function cpuPerEvent(
  before: CpuSample,
  after: CpuSample,
  events: number,
  who = ['alert-ingest', 'PostgreSQL', 'Kafka', 'bench client', 'soft interrupts'],
): string {
  const parts = who.map((k) => {
    const us = (((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1e6) / Math.max(1, events);
    return { k, us };
  });
  const total = parts.reduce((a, p) => a + p.us, 0);
  return `${parts.map((p) => `${p.k} ${p.us.toFixed(0)} µs`).join(', ')}; ${total.toFixed(0)} µs in all`;
}

export interface Row {
  label: string;
  accepted: number;
  refused: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** A keep-alive HTTP client that runs requests closed-loop (as fast as answered) or at a fixed rate. */
export class Client {
  private readonly agent: http.Agent;
  private readonly bases: URL[];

  constructor(
    urls: string[],
    private readonly concurrency: number,
  ) {
    this.bases = urls.map((u) => new URL(u));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  }

  private sent = 0;

  private send(path: string, body: string, extra: Record<string, string> = {}, base: URL = this.bases[this.sent++ % this.bases.length]!): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      // A kept-alive socket the server closed while idle (between scenarios) fails on reuse: send
      // again on a fresh one, as Node's documentation advises (an alert sent twice is deduplicated).
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && err.code === 'ECONNRESET') this.send(path, body, extra, base).then(resolve, reject);
        else reject(err);
      });
      req.end(body);
    });
  }

  /** Closed loop: `concurrency` requests in flight, each sent as soon as one is answered; `answered` sees each status. */
  async run(
    count: number,
    make: (i: number) => { path: string; body: string; headers?: Record<string, string> },
    label = '',
    perRequest = 1,
    answered?: (i: number, status: number) => void,
  ): Promise<Row> {
    const latencies: number[] = [];
    let next = 0;
    let refused = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: this.concurrency }, async () => {
        while (next < count) {
          const i = next++;
          const { path, body, headers } = make(i);
          const t0 = performance.now();
          const status = await this.send(path, body, headers);
          latencies.push(performance.now() - t0);
          answered?.(i, status);
          if (status >= 300) refused++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return summarise(label, latencies, refused, perRequest, seconds);
  }

  /** Open loop: requests leave on schedule whether or not earlier ones were answered. */
  async steady(
    perSecond: number,
    seconds: number,
    make: (i: number) => { path: string; body: string; headers?: Record<string, string> },
    label: string,
    answered?: (i: number, status: number) => void,
  ): Promise<Row> {
    const latencies: number[] = [];
    let refused = 0;
    const count = perSecond * seconds;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const { path, body, headers } = make(i);
      // Latency from the scheduled send time when late (a stalled client cannot hide queueing), else from the send.
      const from = Math.min(due, performance.now());
      inFlight.push(
        this.send(path, body, headers).then((status) => {
          latencies.push(performance.now() - from);
          answered?.(i, status);
          if (status >= 300) refused++;
        }),
      );
    }
    await Promise.all(inFlight);
    return summarise(label, latencies, refused, 1, (performance.now() - started) / 1000);
  }

  close(): void {
    this.agent.destroy();
  }
}

export function summarise(label: string, latencies: number[], refused: number, perRequest: number, seconds: number): Row {
  const s = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
  const accepted = (latencies.length - refused) * perRequest;
  return { label, accepted, refused, perSecond: accepted / seconds, p50: q(50), p99: q(99) };
}

export function table(rows: Row[]): string {
  const head = ['', 'accepted events/s', 'p50 ms', 'p99 ms', 'accepted', 'refused requests'];
  const body = rows.map((r) => [r.label, r.perSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), String(r.accepted), String(r.refused)]);
  const widths = head.map((_, i) => Math.max(head[i]!.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
