import { Kafka, logLevel } from 'kafkajs';
import type { TopicId } from '#libs/contracts';
import type { ServiceName } from '#libs/devstack';
import type { KafkaTap } from './kafka-tap.js';
import { expectOk, queryDb } from './scenario.js';
import type { Api, TestWorld } from './world.js';

/** Which topics each service's consumer group reads (apps/<service>/src/service.ts `consumes`). */
const CONSUMES: Record<ServiceName, TopicId[]> = {
  'alert-ingest': ['incidents', 'directory'],
  oncall: ['incidents', 'directory'],
  notifier: ['pages', 'incidents', 'directory'],
  incidents: ['alerts', 'pages', 'notifications', 'directory'],
};
const SERVICE_NAMES = Object.keys(CONSUMES) as ServiceName[];

/** A service's clock as a test reads it: its OffsetClock's now, or a process's (see `testClockOf`). */
export type Now = () => Date | Promise<Date>;

/** A service a test runs: its database (world.databaseUrl(name)) and its consumer group `${prefix}klaxon-${name}`. */
export interface QuietService {
  name: string;
  /** The topics its consumer group reads; the four services' own by default (CONSUMES). */
  consumes?: readonly TopicId[];
  /** Its clock, when it is not the one in QuietOptions.now (each process of an e2e test may run its own). */
  now?: Now;
}

export interface QuietOptions {
  /** The services the test runs; all four by default. A group that is not running would never catch up. */
  services?: (ServiceName | QuietService)[];
  /** The services' clock (timers due at or before it must have fired): the test clock when the test moves one; the wall clock by default. */
  now?: Now;
  /** Taps that must have read everything on their topics too, so that what the services published is in `tap.messages`. */
  taps?: KafkaTap[];
  timeoutMs?: number;
}

/**
 * Waits until the services a test runs have handled everything it did, so that it can assert that
 * something did not happen: each service's outbox empty, no timer due by its clock (a timer being
 * fired is still in the table until its transaction commits), no notification being sent or due
 * (notifier), each consumer group caught up with the end of the topics it reads, and each tap too;
 * twice in a row, 100 ms apart.
 */
export async function waitUntilQuiet(world: TestWorld, opts: QuietOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const services = (opts.services ?? SERVICE_NAMES).map((s) => (typeof s === 'string' ? { name: s } : s));
  const started = Date.now();
  let quietChecks = 0;
  for (;;) {
    const last = await busy(world, services, opts);
    quietChecks = last ? 0 : quietChecks + 1;
    if (quietChecks >= 2) return;
    if (Date.now() - started > timeoutMs) throw new Error(`the system did not settle within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The test clock of a service process started with TEST_CLOCK=true, read over HTTP (the process may be restarted on another port: give its api as a getter). */
export function testClockOf(api: () => Api): () => Promise<Date> {
  return async () => new Date((await expectOk<{ now: string }>(api().get('/__test/clock'))).now);
}

/** What is still going on, in words ('' when quiet). */
async function busy(world: TestWorld, services: QuietService[], opts: QuietOptions): Promise<string> {
  const reasons: string[] = [];
  for (const { name, now } of services) {
    const extra =
      name === 'notifier' ? `, (SELECT count(*) FROM notifications WHERE status = 'sending' OR (status = 'queued' AND due_at <= $1))::int AS sending` : '';
    const [row] = await queryDb<{ outbox: number; due: number; sending?: number }>(
      world.databaseUrl(name),
      `SELECT (SELECT count(*) FROM outbox)::int AS outbox, (SELECT count(*) FROM timers WHERE due_at <= $1)::int AS due${extra}`,
      [await (now ?? opts.now ?? (() => new Date()))()],
    );
    if (row!.outbox) reasons.push(`${name}: ${row!.outbox} events in the outbox`);
    if (row!.due) reasons.push(`${name}: ${row!.due} timers due`);
    if (row!.sending) reasons.push(`${name}: ${row!.sending} notifications being sent`);
  }
  const groups = [
    ...services.map((s) => ({
      label: s.name,
      groupId: `${world.prefix}klaxon-${s.name}`,
      topics: (s.consumes ?? CONSUMES[s.name as ServiceName] ?? []).map((t) => world.topic(t)),
    })),
    ...(opts.taps ?? []).map((tap) => ({ label: 'tap', groupId: tap.groupId, topics: tap.topics })),
  ];
  const lag = await consumerLag(world, groups);
  if (lag) reasons.push(lag);
  return reasons.join('; ');
}

/** Consumer groups behind the end offsets of their topics, in words ('' when all caught up). */
async function consumerLag(world: TestWorld, groups: { label: string; groupId: string; topics: readonly string[] }[]): Promise<string> {
  const kafka = new Kafka({ clientId: 'klaxon-test-settle', brokers: world.infra.brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, number>();
    for (const topic of new Set(groups.flatMap((g) => g.topics))) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
    }
    const behind: string[] = [];
    for (const { label, groupId, topics } of groups) {
      if (!topics.length) continue;
      const offsets = await admin.fetchOffsets({ groupId, topics: [...topics] });
      for (const { topic, partitions } of offsets) {
        const id = topic.startsWith(world.prefix) ? topic.slice(world.prefix.length) : topic;
        for (const p of partitions) {
          const end = ends.get(`${topic}/${p.partition}`) ?? 0;
          const at = Number(p.offset) < 0 ? 0 : Number(p.offset);
          if (at < end) behind.push(`${label} ${id}/${p.partition} ${end - at} behind`);
        }
      }
    }
    return behind.length ? `consumers: ${behind.join(', ')}` : '';
  } finally {
    await admin.disconnect();
  }
}
