/**
 * The small demo world the start command creates through the public APIs (so it exercises them):
 * one on-call user, an escalation policy paging them, a service, and a PagerDuty-compatible
 * integration. Idempotent: a second start finds what the first made.
 */
export interface DemoWorld {
  userId: string;
  userEmail: string;
  policyId: string;
  serviceId: string;
  integrationId: string;
  integrationKey: string;
}

interface Api {
  url: string;
  token: string;
}

async function call<T>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function seedDemo(opts: { oncallUrl: string; ingestUrl: string; adminToken: string; known?: Partial<DemoWorld> }): Promise<DemoWorld> {
  const oncall = { url: opts.oncallUrl, token: opts.adminToken };
  const ingest = { url: opts.ingestUrl, token: opts.adminToken };
  const email = 'dana.demo@klaxon.local';

  const users = await call<{ id: string; email: string }[]>(oncall, 'GET', '/api/v1/users');
  const user =
    users.find((u) => u.email === email) ??
    (await call<{ id: string }>(oncall, 'POST', '/api/v1/users', { name: 'Dana Demo', email, timeZone: 'Europe/Berlin', role: 'responder' }));

  const policies = await call<{ id: string; name: string }[]>(oncall, 'GET', '/api/v1/escalation-policies');
  const policy =
    policies.find((p) => p.name === 'Demo policy') ??
    (await call<{ id: string }>(oncall, 'POST', '/api/v1/escalation-policies', {
      name: 'Demo policy',
      repeatCount: 1,
      steps: [{ delayMinutes: 5, targets: [{ type: 'user', id: user.id }] }],
    }));

  const services = await call<{ id: string; name: string }[]>(oncall, 'GET', '/api/v1/services');
  const service =
    services.find((s) => s.name === 'Checkout API') ??
    (await call<{ id: string }>(oncall, 'POST', '/api/v1/services', { name: 'Checkout API', escalationPolicyId: policy.id }));

  const integrations = await call<{ id: string; name: string }[]>(ingest, 'GET', `/api/v1/integrations?serviceId=${service.id}`);
  let integration = integrations.find((i) => i.name === 'Demo Events API v2');
  let key = opts.known?.integrationId === integration?.id ? opts.known?.integrationKey : undefined;
  if (!integration) {
    const created = await call<{ integration: { id: string }; key: string }>(ingest, 'POST', '/api/v1/integrations', {
      serviceId: service.id,
      type: 'events-api-v2',
      name: 'Demo Events API v2',
    });
    integration = { id: created.integration.id, name: 'Demo Events API v2' };
    key = created.key;
  } else if (!key) {
    // The key is shown once; we lost it, so issue a new one.
    key = (await call<{ key: string }>(ingest, 'POST', `/api/v1/integrations/${integration.id}/rotate-key`)).key;
  }
  return { userId: user.id, userEmail: email, policyId: policy.id, serviceId: service.id, integrationId: integration.id, integrationKey: key };
}
