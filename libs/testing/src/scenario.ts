import pg from 'pg';
import type { Api } from './world.js';

/**
 * Builds the smallest paging world through the public APIs: a user, a one-step policy paging
 * them, a service, and a PagerDuty-style integration. Returns what a test needs to trigger.
 */
export async function createPagingWorld(oncall: Api, ingest: Api, opts: { email?: string; name?: string; delayMinutes?: number; repeatCount?: number } = {}) {
  const email = opts.email ?? `oncall-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const user = await expectOk(oncall.post('/api/v1/users', { name: opts.name ?? 'Dana', email }));
  const policy = await expectOk(
    oncall.post('/api/v1/escalation-policies', {
      name: `policy ${email}`,
      repeatCount: opts.repeatCount ?? 0,
      steps: [{ delayMinutes: opts.delayMinutes ?? 10, targets: [{ type: 'user', id: user.id }] }],
    }),
  );
  const service = await expectOk(oncall.post('/api/v1/services', { name: 'Checkout API', escalationPolicyId: policy.id }));
  const integration = await expectOk(ingest.post('/api/v1/integrations', { serviceId: service.id, type: 'events-api-v2', name: 'Prometheus' }));
  return { user, policy, service, email, routingKey: integration.key as string, integrationId: integration.integration.id as string };
}

export async function expectOk<T = any>(p: Promise<{ status: number; body: T }>): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`expected success, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A PagerDuty Events API v2 trigger body. */
export function pdTrigger(routingKey: string, dedupKey: string, summary = `Alert ${dedupKey}`, severity = 'critical') {
  return { routing_key: routingKey, event_action: 'trigger', dedup_key: dedupKey, payload: { summary, source: 'test', severity } };
}

/** Runs one query against a service's database (to look at outbox rows, say). */
export async function queryDb<T = any>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
