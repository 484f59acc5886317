import { randomUUID } from 'node:crypto';
import { buildEvent, type EventInput, type EventType } from '#libs/contracts';
import { eventually, expectOk, produceRaw, waitUntilQuiet, type Api, type KafkaTap, type Now, type TestWorld } from '#libs/testing';

/** Publishes events onto their topic as incidents (or alert-ingest) would, bypassing any outbox. */
export async function publish(world: TestWorld, ...events: { type: EventType; key: string; data: unknown }[]): Promise<void> {
  const byTopic = new Map<string, { key: string; value: string }[]>();
  for (const e of events) {
    const env = buildEvent(e.type, e.key, e.data as never, { producer: 'test', correlationId: randomUUID() });
    const topic = world.topic(e.type.startsWith('maintenance.') ? 'directory' : 'incidents');
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key: e.key, value: JSON.stringify(env) }]);
  }
  for (const [topic, messages] of byTopic) await produceRaw(world.infra.brokers, topic, messages);
}

export function event<T extends EventType>(type: T, key: string, data: EventInput<T>) {
  return { type, key, data };
}

/** An incident as incidents announces it. */
export function triggered(
  serviceId: string,
  opts: { incidentId?: string; number?: number; urgency?: 'high' | 'low'; reason?: 'new' | 'ack-timeout' | 'snooze-expired' } = {},
) {
  const incidentId = opts.incidentId ?? randomUUID();
  return event('incident.triggered', incidentId, {
    incidentId,
    number: opts.number ?? 1,
    serviceId,
    title: 'Disk full on db1',
    priority: 'P1',
    urgency: opts.urgency ?? 'high',
    alertId: null,
    triggeredAt: new Date().toISOString(),
    reason: opts.reason ?? 'new',
  });
}

export const actor = { userId: null, name: 'Dana', source: 'api' as const };

export function pagesFor(tap: KafkaTap, incidentId: string) {
  return tap
    .ofType('page.requested')
    .filter((m) => m.json!.data.incidentId === incidentId)
    .map((m) => m.json!.data as { pageId: string; userId: string; step: number; loop: number; userName: string });
}

export function stepsFor(tap: KafkaTap, incidentId: string) {
  return tap
    .ofType('escalation.step-fired')
    .filter((m) => m.json!.data.incidentId === incidentId)
    .map((m) => m.json!.data as { step: number; loop: number; userIds: string[]; nobodyOnCall: boolean });
}

export async function user(api: Api, name: string, extra: Record<string, unknown> = {}) {
  return expectOk(api.post('/api/v1/users', { name, email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, ...extra }));
}

export async function serviceWithPolicy(
  api: Api,
  steps: { delayMinutes: number; targets: { type: string; id: string }[] }[],
  opts: { repeatCount?: number; urgencyRule?: unknown } = {},
) {
  const policy = await expectOk(
    api.post('/api/v1/escalation-policies', { name: `policy ${randomUUID().slice(0, 8)}`, repeatCount: opts.repeatCount ?? 0, steps }),
  );
  const service = await expectOk(
    api.post('/api/v1/services', {
      name: `service ${randomUUID().slice(0, 8)}`,
      escalationPolicyId: policy.id,
      ...(opts.urgencyRule ? { urgencyRule: opts.urgencyRule } : {}),
    }),
  );
  return { policy, service };
}

/** Waits until the service reports ready (database and Kafka, topics created). */
export async function ready(api: Api): Promise<void> {
  await eventually(async () => (await api.get('/health/ready')).status === 200, { what: 'oncall ready', timeoutMs: 60000 });
}

/**
 * Waits until oncall's consumer handles incident events (its group joined, which can take seconds
 * on a busy machine): an incident on an unknown service comes back as escalation.exhausted.
 */
export async function consuming(world: TestWorld, pages: KafkaTap): Promise<void> {
  const probe = triggered(randomUUID());
  await publish(world, probe);
  await eventually(async () => pages.ofType('escalation.exhausted').some((m) => m.json!.data.incidentId === probe.key), {
    what: 'oncall consuming incident events',
    timeoutMs: 60000,
  });
}

/**
 * Waits until oncall has handled everything so far (every timer due by its clock fired, every event
 * read, every page published) and the tap has read it: then a page that has not come will not come.
 */
export function oncallQuiet(world: TestWorld, tap: KafkaTap, now: Now): Promise<void> {
  return waitUntilQuiet(world, { services: ['oncall'], now, taps: [tap] });
}
