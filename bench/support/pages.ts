import type { SmtpSink } from '#libs/testing';

/** When each alert's first page reached the provider, from the emails as they arrive (a bundle lists several). */
export class PageClock {
  private readonly first = new Map<string, number>();
  private seen = 0;
  doubled = 0;

  /** `pattern` (global) finds an alert's key in a subject or body as group 1. */
  constructor(
    private readonly smtp: SmtpSink,
    private readonly pattern: RegExp,
  ) {}

  at(key: string): number | undefined {
    this.scan();
    return this.first.get(key);
  }

  /** Alerts with a page so far. */
  get size(): number {
    this.scan();
    return this.first.size;
  }

  private scan(): void {
    for (; this.seen < this.smtp.mails.length; this.seen++) {
      const mail = this.smtp.mails[this.seen]!;
      const keys = new Set([...`${mail.subject}\n${mail.text}`.matchAll(this.pattern)].map((m) => m[1]!));
      for (const key of keys) {
        if (this.first.has(key)) this.doubled++;
        else this.first.set(key, mail.receivedAt);
      }
    }
  }
}

/**
 * Where the time goes, hop by hop, from each event's occurredAt (written when the service builds it,
 * just before its transaction commits; every process reads the same clock).
 */
export function printHops(
  mails: { key: string; receivedAt: number }[],
  sentAt: Map<string, number>,
  messages: { json?: { type: string; correlationId: string } }[],
): void {
  const at = new Map<string, number>();
  for (const m of messages) {
    const e = m.json as { type: string; correlationId: string; occurredAt?: string } | undefined;
    if (e?.occurredAt && !at.has(`${e.correlationId} ${e.type}`)) at.set(`${e.correlationId} ${e.type}`, Date.parse(e.occurredAt));
  }
  const hops: Record<string, number[]> = {
    'sent -> alert.triggered built (alert-ingest: HTTP, group commit)': [],
    'alert.triggered -> incident.triggered built (commit, relay, Kafka, incidents)': [],
    'incident.triggered -> page.requested built (commit, relay, Kafka, oncall)': [],
    'page.requested -> email received (commit, relay, Kafka, notifier, SMTP)': [],
  };
  const [h1, h2, h3, h4] = Object.values(hops) as [number[], number[], number[], number[]];
  for (const { key, receivedAt } of mails) {
    const [a, i, p] = ['alert.triggered', 'incident.triggered', 'page.requested'].map((t) => at.get(`${key} ${t}`));
    if (a === undefined || i === undefined || p === undefined) continue;
    h1.push(a - sentAt.get(key)!);
    h2.push(i - a);
    h3.push(p - i);
    h4.push(receivedAt - p);
  }
  if (h1.length === 0) return;
  console.log(`hop by hop (${h1.length} alerts whose three events were seen on Kafka):`);
  for (const [label, values] of Object.entries(hops)) printQuantiles(`  ${label}`, values);
}

export function printQuantiles(label: string, values: number[]): void {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  console.log(`${label}: p50 ${q(50).toFixed(1)} ms, p90 ${q(90).toFixed(1)} ms, p99 ${q(99).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`);
}
