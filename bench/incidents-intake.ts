import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildEvent, topicOf, type EventInput } from '#libs/contracts';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { TestWorld, eventually, sleep, type KafkaTap } from '#libs/testing';
import { incidentsService } from '../apps/incidents/src/service.js';

/**
 * incidents' intake: from alert.triggered written to Kafka until incident.triggered is read back
 * from Kafka (consumer, transaction, outbox relay included), through a running incidents service:
 *  1. one alert at a time (latency p50/p90/p99);
 *  2. a burst of alerts without grouping (each opens an incident): time until the last incident is published;
 *  3. a burst of alerts of 20 content groups arriving together on every partition: time until all
 *     are recorded, and a check that exactly 20 incidents were opened.
 *
 *   npm run bench -- incidents-intake [sequential=200] [burst=2000]
 */
export default async function incidentsIntakeBench(args: string[]): Promise<void> {
  const sequential = Number(args[0] ?? 200);
  const burst = Number(args[1] ?? 2000);
  const world = new TestWorld();
  producer = new Kafka({ clientId: 'bench', brokers: world.infra.brokers.split(','), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    const svc = await world.start(incidentsService, { env: { LOG_LEVEL: 'warn' } });
    const tap = await world.tap('incidents');
    const plain = await service(world, svc.runtime.dataSource, { mode: 'none' });
    const grouped = await service(world, svc.runtime.dataSource, { mode: 'content', fields: ['source'], windowMinutes: 60 });

    // Warm up the consumer, the relay and the connection pools.
    await send(world, [alert(plain, 'warm-up')]);
    await eventually(async () => triggered(tap).size >= 1, { timeoutMs: 60_000 });

    const latencies: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const a = alert(plain, `sequential ${i}`);
      const started = performance.now();
      await send(world, [a]);
      while (!triggered(tap).has(a.alertId)) await sleep(1);
      latencies.push(performance.now() - started);
    }
    latencies.sort((x, y) => x - y);
    const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);

    const before = triggered(tap).size;
    const alerts = Array.from({ length: burst }, (_, i) => alert(plain, `burst ${i}`));
    const burstStart = performance.now();
    await send(world, alerts);
    await eventually(async () => triggered(tap).size >= before + burst, { timeoutMs: 600_000, intervalMs: 20 });
    const burstMs = performance.now() - burstStart;

    const groupedAlerts = Array.from({ length: burst }, (_, i) => alert(grouped, `grouped ${i}`, `host-${i % 20}`));
    const groupedStart = performance.now();
    await send(world, groupedAlerts);
    const db = svc.runtime.dataSource;
    await eventually(async () => (await db.query('SELECT count(*)::int AS n FROM incident_alerts WHERE service_id = $1', [grouped]))[0].n === burst, {
      timeoutMs: 600_000,
      intervalMs: 20,
    });
    const groupedMs = performance.now() - groupedStart;
    const [{ n: groupedIncidents }] = await db.query('SELECT count(*)::int AS n FROM incidents WHERE service_id = $1', [grouped]);

    console.log(
      `\nincidents intake: alert.triggered on Kafka → incident.triggered on Kafka (${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
    );
    console.log(`one alert at a time (${sequential}): p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    console.log(
      `burst of ${burst} alerts, no grouping: last incident published after ${(burstMs / 1000).toFixed(2)} s (${Math.round(burst / (burstMs / 1000))} incidents/s)`,
    );
    console.log(
      `burst of ${burst} alerts in 20 content groups on all partitions: all recorded after ${(groupedMs / 1000).toFixed(2)} s (${Math.round(burst / (groupedMs / 1000))} alerts/s); incidents opened: ${groupedIncidents} (expected 20)`,
    );
  } finally {
    await producer.disconnect();
    await world.close();
  }
}

/** One producer for the whole run, so the figures do not include connecting. */
let producer: Producer;

function triggered(tap: KafkaTap): Set<string> {
  return new Set(tap.messages.filter((m) => m.json?.type === 'incident.triggered').map((m) => m.json!.data.alertId as string));
}

async function service(
  world: TestWorld,
  db: { query(sql: string, p: unknown[]): Promise<unknown[]> },
  grouping: EventInput<'service.upserted'>['grouping'],
): Promise<string> {
  const serviceId = randomUUID();
  const data: EventInput<'service.upserted'> = {
    serviceId,
    name: `Bench ${grouping.mode}`,
    teamId: null,
    escalationPolicyId: null,
    urgencyRule: { type: 'constant', urgency: 'high' },
    grouping,
    ackTimeoutSeconds: 1800,
    autoResolveOnAlertResolve: true,
    autoResolveTimeoutSeconds: null,
  };
  await send(world, [{ type: 'service.upserted', key: serviceId, data }]);
  await eventually(async () => (await db.query('SELECT 1 FROM services WHERE id = $1', [serviceId])).length > 0, { timeoutMs: 60_000 });
  return serviceId;
}

function alert(
  serviceId: string,
  summary: string,
  source = 'bench',
): { type: 'alert.triggered'; key: string; data: EventInput<'alert.triggered'>; alertId: string } {
  const alertId = randomUUID();
  return {
    type: 'alert.triggered',
    key: alertId,
    alertId,
    data: {
      alertId,
      serviceId,
      integrationId: null,
      dedupKey: alertId,
      integrationType: 'bench',
      summary,
      severity: 'critical',
      source,
      triggeredAt: new Date().toISOString(),
    },
  };
}

async function send(world: TestWorld, events: { type: 'alert.triggered' | 'service.upserted'; key: string; data: any }[]): Promise<void> {
  const topic = topicOf(events[0]!.type, world.prefix);
  const messages = events.map((e) => ({
    key: e.key,
    value: JSON.stringify(buildEvent(e.type, e.key, e.data, { producer: 'bench', correlationId: randomUUID() })),
  }));
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
}
