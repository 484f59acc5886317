import { Kafka, logLevel, type Admin } from 'kafkajs';
import { SERVICES, type ServiceName } from '#libs/devstack';
import type { ChaosKafka, ChaosPostgres } from './cluster.js';
import type { Random } from './random.js';
import type { ChaosStack, Instance } from './stack.js';

export type FaultKind = 'kill' | 'broker-stop' | 'broker-kill' | 'postgres-restart' | 'postgres-crash' | 'stall' | 'sms-500' | 'sms-timeout';
export const FAULT_KINDS: FaultKind[] = ['kill', 'broker-stop', 'broker-kill', 'postgres-restart', 'postgres-crash', 'stall', 'sms-500', 'sms-timeout'];

export interface Fault {
  /** When it starts, ms after the storm began. */
  at: number;
  kind: FaultKind;
  /** kill / stall: the instance ("notifier#2"). */
  target?: string;
  /** How long the part stays down (kill: until restarted; stall: stopped; sms-*: the outage). */
  forMs: number;
}

/**
 * The seeded schedule: every instance killed `rounds` times (restarted after 1–6 s), the broker
 * stopped and killed, PostgreSQL restarted, a consumer stalled past its session timeout, and the
 * SMS provider failing and then timing out — `rounds` times each. Broker and database faults get
 * slots of their own so each one's effect can be told apart; the rest fall anywhere in the window.
 */
export function faultSchedule(
  random: Random,
  opts: { windowMs: number; rounds: number; instances: string[]; killAll: boolean; sessionTimeoutMs: number },
): Fault[] {
  const { windowMs, rounds } = opts;
  const start = Math.min(15_000, windowMs * 0.1);
  const span = windowMs - start;
  const faults: Fault[] = [];
  const anywhere = () => start + random.next() * span * 0.95;
  const killed = opts.killAll ? opts.instances : SERVICES.map((s) => random.pick(opts.instances.filter((i) => i.startsWith(`${s}#`))));
  for (let r = 0; r < rounds; r++) {
    for (const target of killed) faults.push({ at: anywhere(), kind: 'kill', target, forMs: random.between(1000, 6000) });
    const consumers = opts.instances.filter((i) => !i.startsWith('alert-ingest#'));
    faults.push({ at: anywhere(), kind: 'stall', target: random.pick(consumers), forMs: opts.sessionTimeoutMs + random.between(2000, 5000) });
    faults.push({ at: anywhere(), kind: 'sms-500', forMs: random.between(5000, 10000) });
    faults.push({ at: anywhere(), kind: 'sms-timeout', forMs: random.between(8000, 15000) });
  }
  // Infrastructure faults one at a time, each in its own slot.
  const infra: FaultKind[] = [];
  for (let r = 0; r < rounds; r++) infra.push('broker-stop', 'broker-kill', 'postgres-restart', 'postgres-crash');
  const slot = span / infra.length;
  infra
    .map((kind) => ({ kind, order: random.next() }))
    .sort((a, b) => a.order - b.order)
    .forEach(({ kind }, i) =>
      faults.push({
        at: start + i * slot + random.next() * slot * 0.4,
        kind,
        forMs: kind === 'postgres-restart' ? 0 : kind === 'postgres-crash' ? random.between(1000, 4000) : random.between(3000, 8000),
      }),
    );
  return faults.sort((a, b) => a.at - b.at);
}

export function describeFault(f: Fault): string {
  const t = `+${(f.at / 1000).toFixed(1)} s`;
  const d = `${(f.forMs / 1000).toFixed(1)} s`;
  switch (f.kind) {
    case 'kill':
      return `${t} kill -9 ${f.target}, restarted ${d} later`;
    case 'stall':
      return `${t} SIGSTOP ${f.target} for ${d} (past the session timeout), then SIGCONT`;
    case 'broker-stop':
      return `${t} Kafka broker stopped (SIGTERM) for ${d}`;
    case 'broker-kill':
      return `${t} Kafka broker kill -9, restarted ${d} later`;
    case 'postgres-restart':
      return `${t} PostgreSQL pg_ctl restart -m fast`;
    case 'postgres-crash':
      return `${t} PostgreSQL crashed (pg_ctl stop -m immediate: no checkpoint, WAL replayed at start), started ${d} later`;
    case 'sms-500':
      return `${t} SMS/voice provider answers 500 for ${d}`;
    case 'sms-timeout':
      return `${t} SMS/voice provider takes messages but does not answer for ${d}`;
  }
}

/** Runs a schedule against the stack; `done` resolves when every fault has ended and every part is back. */
export class FaultRunner {
  readonly log: string[] = [];
  /** Per kill or stall: how long the service's consumer group had partitions without a live consumer. */
  readonly pauses: { fault: string; since: number; ms: number | null }[] = [];
  /** When the broker or the database was down: a pause that overlaps one is the outage's, not the kill's. */
  readonly outages: { from: number; to: number }[] = [];
  lastEndedAt = 0;
  private readonly watch: GroupWatch;

  constructor(
    private readonly stack: ChaosStack,
    private readonly kafka: ChaosKafka,
    private readonly postgres: ChaosPostgres,
    private readonly t0: number,
  ) {
    this.watch = new GroupWatch(kafka.brokers, stack.world.prefix);
  }

  async run(schedule: Fault[]): Promise<void> {
    this.watch.start();
    // Faults on one part (an instance, the broker) happen one after another, never on top of each other.
    const lanes = new Map<string, Promise<void>>();
    try {
      await Promise.all(
        schedule.map(async (f) => {
          await sleep(Math.max(0, this.t0 + f.at - Date.now()));
          const lane =
            f.target ?? (f.kind.startsWith('broker') ? 'broker' : f.kind.startsWith('sms') ? 'sms' : f.kind.startsWith('postgres') ? 'postgres' : f.kind);
          const previous = lanes.get(lane) ?? Promise.resolve();
          let release!: () => void;
          lanes.set(lane, new Promise<void>((r) => (release = r)));
          await previous;
          this.note(`start  ${describeFault(f)}`);
          const from = Date.now();
          try {
            await this.apply(f);
            if (['broker-stop', 'broker-kill', 'postgres-restart', 'postgres-crash'].includes(f.kind)) this.outages.push({ from, to: Date.now() });
          } catch (err) {
            this.note(`FAILED ${describeFault(f)}: ${(err as Error).message}`);
          } finally {
            release();
          }
          this.lastEndedAt = Math.max(this.lastEndedAt, Date.now());
          this.note(`end    ${f.kind}${f.target ? ` ${f.target}` : ''}`);
        }),
      );
    } finally {
      await this.watch.stop();
    }
  }

  /** Measured pauses after kills and stalls, longest first: while broker and database were up, and during an outage of either (the outage's, not the kill's). */
  measuredPauses(): { clean: { fault: string; ms: number }[]; duringOutage: { fault: string; ms: number }[] } {
    const measured = this.pauses.filter((p): p is { fault: string; since: number; ms: number } => p.ms !== null).sort((a, b) => b.ms - a.ms);
    const inOutage = (p: { since: number; ms: number }) => this.outages.some((o) => o.from < p.since + p.ms && o.to > p.since);
    return { clean: measured.filter((p) => !inOutage(p)), duringOutage: measured.filter(inOutage) };
  }

  private note(line: string): void {
    const entry = `[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${line}`;
    this.log.push(entry);
    if (process.env.KLAXON_CHAOS_VERBOSE) console.log(entry);
  }

  private instance(label: string): Instance {
    return this.stack.instances.find((i) => i.label === label)!;
  }

  private async apply(f: Fault): Promise<void> {
    switch (f.kind) {
      case 'kill': {
        const inst = this.instance(f.target!);
        const members = this.watch.members(inst.service);
        const killedAt = Date.now();
        await inst.process.stop('SIGKILL');
        const pause = this.watch.untilGone(inst.service, members, killedAt);
        await sleep(f.forMs);
        await this.restart(inst);
        this.pauses.push({ fault: `kill ${inst.label}`, since: killedAt, ms: await pause });
        return;
      }
      case 'stall': {
        const inst = this.instance(f.target!);
        const members = this.watch.members(inst.service);
        const stoppedAt = Date.now();
        process.kill(inst.process.pid!, 'SIGSTOP');
        const pause = this.watch.untilGone(inst.service, members, stoppedAt);
        await sleep(f.forMs);
        process.kill(inst.process.pid!, 'SIGCONT');
        this.pauses.push({ fault: `stall ${inst.label}`, since: stoppedAt, ms: await pause });
        return;
      }
      case 'broker-stop':
        await this.kafka.stop();
        await sleep(f.forMs);
        await this.kafka.up();
        return;
      case 'broker-kill':
        this.kafka.kill();
        await sleep(f.forMs);
        await this.kafka.up();
        return;
      case 'postgres-restart':
        this.postgres.restart();
        return;
      case 'postgres-crash':
        this.postgres.crash();
        await sleep(f.forMs);
        this.postgres.startAgain();
        return;
      case 'sms-500': {
        const end = this.stack.twilio.refuseAll({ status: 500, code: 20500, message: 'Internal Server Error' });
        await sleep(f.forMs);
        end();
        return;
      }
      case 'sms-timeout': {
        const release = this.stack.twilio.holdCreates();
        await sleep(f.forMs);
        release();
        return;
      }
    }
  }

  /** Starts a killed instance again; while the database or broker is down it may fail to start, and is tried again. */
  private async restart(inst: Instance): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await inst.process.start({}, 90_000);
        inst.restarts += 1;
        return;
      } catch (err) {
        await inst.process.stop('SIGKILL').catch(() => undefined);
        if (attempt >= 10) throw err;
        this.note(`restart of ${inst.label} failed (${(err as Error).message.split('\n')[0]}); trying again`);
        await sleep(2000);
      }
    }
  }
}

/**
 * Watches each service's consumer group (describeGroups every 200 ms): who its members are, and
 * after a member dies or stalls, how long until the group is stable without it — the time its
 * partitions had no live consumer.
 */
class GroupWatch {
  private admin?: Admin;
  private readonly state = new Map<ServiceName, { members: string[]; stable: boolean }>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly brokers: string,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), 200);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
  }

  members(service: ServiceName): string[] {
    return this.state.get(service)?.members ?? [];
  }

  /** Resolves with the ms from `since` until the group is stable and one of `before` has left it (null if not seen within 2 minutes). */
  async untilGone(service: ServiceName, before: string[], since: number): Promise<number | null> {
    if (before.length === 0) return null;
    while (Date.now() - since < 120_000) {
      const s = this.state.get(service);
      if (s && s.stable && before.some((m) => !s.members.includes(m))) return Date.now() - since;
      await sleep(100);
    }
    return null;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (!this.admin) {
        const admin = new Kafka({
          clientId: 'klaxon-chaos-watch',
          brokers: [this.brokers],
          logLevel: logLevel.NOTHING,
          retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 },
        }).admin();
        await admin.connect();
        this.admin = admin;
      }
      const { groups } = await this.admin.describeGroups(SERVICES.map((s) => `${this.prefix}klaxon-${s}`));
      for (const g of groups) {
        const service = SERVICES.find((s) => g.groupId === `${this.prefix}klaxon-${s}`)!;
        const was = this.state.get(service);
        const members = g.members.map((m) => m.memberId.slice(-6)).join(',');
        if (process.env.KLAXON_CHAOS_VERBOSE && (was?.stable !== (g.state === 'Stable') || was?.members.length !== g.members.length))
          console.log(`[${new Date().toISOString().slice(11, 23)}] group ${service}: ${g.state} [${members}]`);
        this.state.set(service, { members: g.members.map((m) => m.memberId), stable: g.state === 'Stable' });
      }
    } catch (err) {
      if (process.env.KLAXON_CHAOS_VERBOSE) console.log(`group watch: ${(err as Error).message}`);
      await this.admin?.disconnect().catch(() => undefined);
      this.admin = undefined;
    } finally {
      this.polling = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
