import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT, eventually, queryDb, settleWorld } from '#libs/testing';
import { audit, type Finding } from './audit.js';
import { ChaosKafka, ChaosPostgres } from './cluster.js';
import { FAULT_KINDS, FaultRunner, describeFault, faultSchedule } from './faults.js';
import { Random } from './random.js';
import { ChaosStack } from './stack.js';
import { Responders, buildWorld, sendEvents, type Action, type MonitoredKey, type SendLog } from './traffic.js';

/**
 * `npm run chaos [-- --short] [--seed N] [--minutes M]`: the whole stack with two instances of
 * every service, a storm of alerts from four kinds of sender and acknowledgements from phones and
 * mailboxes, while a seeded schedule of faults runs (kill -9 of every part, the broker stopped and
 * killed, PostgreSQL restarted, a consumer stalled past its session timeout, the SMS provider
 * failing and timing out). Then every monitor resolves, the system goes quiet, and every accepted
 * alert is followed to the messages people received: it prints what was lost, doubled or left
 * wrong, with ids, and exits 1 if anything was.
 */
export default async function chaos(args: string[]): Promise<number> {
  const opt = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const short = args.includes('--short');
  const seed = Number(opt('seed') ?? randomBytes(4).readUInt32BE(0));
  const windowMs = Number(opt('minutes') ?? (short ? 2 : 10)) * 60_000;
  const profile = short
    ? { people: 8, services: 12, keys: 150, rate: 12, rounds: 1, killAll: false }
    : { people: 16, services: 32, keys: 400, rate: 12, rounds: 2, killAll: true };
  const sessionTimeoutMs = Number(opt('session-timeout-ms') ?? 3000);
  const random = new Random(seed);
  const started = Date.now();
  const say = (line = '') => console.log(line);
  say(
    `Klaxon chaos run, seed ${seed} (replay: npm run chaos -- ${short ? '--short ' : ''}--seed ${seed}${opt('minutes') ? ` --minutes ${opt('minutes')}` : ''})`,
  );

  const postgres = await new ChaosPostgres().start();
  const kafka = await ChaosKafka.start();
  const runId = `c${Date.now().toString(36)}`;
  Object.assign(process.env, {
    KLAXON_TEST_RUN: runId,
    KLAXON_TEST_KAFKA: kafka.brokers,
    KLAXON_TEST_PG: postgres.baseUrl,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  });
  const logDir = path.join(REPO_ROOT, '.klaxon/chaos', runId);
  // Rate limits off: every page is its own message (a limited person's pages are bundled, which would hide a doubled send in a bundle).
  const stack = new ChaosStack(
    {
      LOG_LEVEL: 'warn',
      SEND_DEADLINE_SECONDS: '5',
      KAFKA_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
      RATE_LIMIT_SMS: 'off',
      RATE_LIMIT_VOICE: 'off',
      RATE_LIMIT_EMAIL: 'off',
      // 16 people take thousands of pages in 10 minutes: the daily cap (200) would turn most into recorded failures.
      USER_DAILY_PHONE_LIMIT: '10000',
    },
    logDir,
  );
  let failed = true;
  // Whatever happens to this process, what it started is stopped (a Ctrl-C, an error nobody caught).
  const harnessErrors: string[] = [];
  const onError = (err: unknown) => harnessErrors.push((err as Error).stack ?? String(err));
  const onSignal = () => {
    void kafka.close().finally(() => {
      postgres.close();
      process.exit(130);
    });
  };
  process.on('uncaughtException', onError);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await stack.start(2);
    say(
      `stack: 2 instances of each of the 4 services behind round-robin balancers; Kafka ${kafka.brokers} and PostgreSQL 127.0.0.1:${postgres.port} of its own; logs in ${path.relative(REPO_ROOT, logDir)}`,
    );
    const { people, keys } = await buildWorld(stack, profile, random);
    say(
      `world: ${people.length} people (push, SMS, email at once, a call after 1 min), ${profile.services} services (PagerDuty v2, Opsgenie, Alertmanager, webhook in turn), ${keys.length} dedup keys; policies escalate every minute and loop once`,
    );
    await settleWorld(stack.world, () => new Date(), 120_000);

    const schedule = faultSchedule(random, {
      windowMs,
      rounds: profile.rounds,
      instances: stack.instances.map((i) => i.label),
      killAll: profile.killAll,
      sessionTimeoutMs,
    });
    say(`\nfault schedule (${schedule.length} faults over ${windowMs / 1000} s; every kind ${profile.rounds === 1 ? 'once' : `${profile.rounds} times`}):`);
    for (const f of schedule) say(`  ${describeFault(f)}`);

    const t0 = Date.now();
    const faults = new FaultRunner(stack, kafka, postgres, t0);
    const responders = new Responders(stack, random, 0.3);
    const log: SendLog = {
      accepted: 0,
      refused: [],
      abandoned: 0,
      retries: 0,
      byType: { pagerduty: 0, opsgenie: 0, alertmanager: 0, webhook: 0 },
      requests: { pagerduty: 0, opsgenie: 0, alertmanager: 0, webhook: 0 },
    };
    responders.start();
    const ingest = stack.balancers.get('alert-ingest')!.url;
    const [sent] = await Promise.all([storm(ingest, keys, random, profile.rate, windowMs, log), faults.run(schedule)]);
    const stormEnded = Date.now();
    say(
      `\nstorm: ${sent} events sent in ${((stormEnded - t0) / 1000).toFixed(0)} s, ${log.accepted} accepted (${fmt(log.byType)}; Alertmanager's in ${log.requests.alertmanager} webhooks); ${log.retries} retries; ${log.abandoned} given up after a minute; ${log.refused.length} refused`,
    );
    for (const r of log.refused.slice(0, 10)) say(`  refused: ${r.what}: ${r.status} ${r.body}`);
    for (const line of faults.log) say(`  ${line}`);

    // Quiet: what the storm and the faults left in flight is handled.
    await settleWorld(stack.world, () => new Date(), 10 * 60_000);
    const quietAt = Date.now();
    say(
      `quiet ${((quietAt - faults.lastEndedAt) / 1000).toFixed(1)} s after the last fault ended (${((quietAt - stormEnded) / 1000).toFixed(1)} s after the storm's last event)`,
    );
    const { clean: pauses, duringOutage } = faults.measuredPauses();
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    say(
      pauses.length
        ? `partitions without a live consumer after a kill or stall (session timeout ${secs(sessionTimeoutMs)}; broker and database up): longest ${secs(pauses[0]!.ms)}, median ${secs(pauses[Math.floor(pauses.length / 2)]!.ms)} over ${pauses.length}: ${pauses.map((p) => `${p.fault} ${secs(p.ms)}`).join(', ')}`
        : 'no kill or stall happened while broker and database were up: no pause measured',
    );
    if (duringOutage.length) say(`  during a broker or database outage: ${duringOutage.map((p) => `${p.fault} ${secs(p.ms)}`).join(', ')}`);
    await responders.stop();
    const acks = responders.acks;
    const by = (via: string, action: string) => acks.filter((a) => a.via === via && a.action === action).length;
    say(
      `people acted on pages: ${acks.length} times; acknowledged by SMS ${by('sms', 'acknowledge')}, keypress ${by('voice', 'acknowledge')}, email link ${by('email', 'acknowledge')}; resolved by SMS ${by('sms', 'resolve')}, keypress ${by('voice', 'resolve')}, email link ${by('email', 'resolve')}; refused: ${responders.failures.length}`,
    );
    for (const f of responders.failures.slice(0, 5)) say(`  ${f}`);

    // Every monitor clears: everything must end resolved everywhere, and paging must stop.
    await resolveAll(ingest, keys, log);
    await eventually(
      async () => {
        const [row] = await queryDb<{ open: number }>(
          stack.world.databaseUrl('incidents'),
          `SELECT count(*)::int AS open FROM incidents WHERE status <> 'resolved'`,
        );
        return row!.open === 0;
      },
      { timeoutMs: 5 * 60_000, intervalMs: 500, what: 'every incident resolved' },
    ).catch(() => undefined);
    await settleWorld(stack.world, () => new Date(), 10 * 60_000);

    const result = await audit(stack, keys);
    say('\ncounts:');
    say(`  events accepted (2xx): ${log.accepted} (triggers ${sum(keys, (k) => k.triggersAccepted)}, resolves ${sum(keys, (k) => k.resolvesAccepted)})`);
    for (const [k, v] of Object.entries(result.counts)) say(`  ${k}: ${v}`);
    const kinds = new Set(schedule.map((f) => f.kind));
    const missing = FAULT_KINDS.filter((k) => !kinds.has(k));
    if (missing.length) say(`fault kinds not scheduled: ${missing.join(', ')}`);
    const failedFaults = faults.log.filter((l) => l.includes('FAILED'));
    report('LOST', result.lost);
    report('DOUBLED', result.doubled);
    report('WRONG', result.wrong);
    report('paging that went on after an acknowledgement or resolve (reported, not failed on)', result.late);
    for (const e of harnessErrors) say(`harness error: ${e}`);
    const problems = count(result.lost) + count(result.doubled) + count(result.wrong) + log.refused.length + failedFaults.length + harnessErrors.length;
    failed = problems > 0;
    say(
      `\nchaos ${failed ? 'FAILED' : 'passed'}: ${count(result.lost)} lost, ${count(result.doubled)} doubled, ${count(result.wrong)} wrong, ${log.refused.length} refused, ${failedFaults.length} faults that could not be applied; seed ${seed}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
    );
  } catch (err) {
    say(`\nchaos run broke: ${(err as Error).stack ?? (err as Error).message}\nseed ${seed}`);
  } finally {
    process.off('uncaughtException', onError);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.close().catch(() => undefined);
    await stack.world.close().catch(() => undefined);
    await kafka.close().catch(() => undefined);
    postgres.close();
  }
  return failed ? 1 : 0;
}

/** Events at a steady rate from monitors (one event in flight per key, as a monitor sends; Alertmanager in batches), mostly triggers, a quarter resolves. */
async function storm(ingest: string, keys: MonitoredKey[], random: Random, rate: number, windowMs: number, log: SendLog): Promise<number> {
  const t0 = Date.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  while (Date.now() - t0 < windowMs) {
    const due = t0 + (sent * 1000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const free = keys.filter((k) => !k.busy);
    if (!free.length || inFlight.size > 200) {
      await Promise.race(inFlight);
      continue;
    }
    const first = random.pick(free);
    // Alertmanager sends what its group holds in one webhook: up to 5 alerts of one integration.
    const batch =
      first.service.sender === 'alertmanager' ? [first, ...free.filter((k) => k !== first && k.service === first.service).slice(0, random.int(5))] : [first];
    const events = batch.map((k) => ({ k, action: (k.triggersAccepted > k.resolvesAccepted && random.chance(0.25) ? 'resolve' : 'trigger') as Action }));
    for (const k of batch) k.busy = true;
    sent += events.length;
    const p = sendEvents(ingest, events, log).then(() => {
      for (const k of batch) k.busy = false;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  return sent;
}

async function resolveAll(ingest: string, keys: MonitoredKey[], log: SendLog): Promise<void> {
  const queue = keys.filter((k) => k.triggersAccepted > 0);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let k = queue.shift(); k; k = queue.shift()) await sendEvents(ingest, [{ k, action: 'resolve' }], log);
    }),
  );
}

function report(label: string, findings: Finding[]): void {
  console.log(`${label}: ${count(findings)}`);
  for (const f of findings) console.log(`  ${f.what}: ${f.ids.length}\n    ${f.ids.slice(0, 20).join('\n    ')}${f.ids.length > 20 ? '\n    …' : ''}`);
}

const count = (findings: Finding[]) => findings.reduce((n, f) => n + f.ids.length, 0);
const sum = <T>(items: T[], f: (t: T) => number) => items.reduce((n, t) => n + f(t), 0);
const fmt = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
