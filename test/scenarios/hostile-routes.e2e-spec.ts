import { PagingSystem, type Api } from '#libs/testing';

/**
 * Every route of every service, as its OpenAPI document lists it, sent hostile input with an admin
 * token (so requests get past the guard to the handlers): path parameters that are not ids or hold
 * NUL and bytes that are not UTF-8, hostile query strings, and bodies with NUL characters, lone
 * surrogates, wrong types, operator objects, deep nesting, huge strings and broken JSON. Nothing may
 * answer 5xx: bad input is the sender's to fix and gets a 4xx that says why.
 */
const PATH_VALUES = ['00000000-0000-4000-8000-000000000000', '%00', 'not-an-id', '%ED%A0%80', '..%2F..%2Fetc', 'x'.repeat(300)];

const FIELDS = ['name', 'email', 'title', 'text', 'message', 'description', 'serviceId', 'userId', 'teamId', 'type', 'value', 'code', 'priority', 'status'];

function deep(n: number): unknown {
  let v: unknown = '\u0000';
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

const BODIES: unknown[] = [
  Object.fromEntries(FIELDS.map((f) => [f, '\u0000'])),
  Object.fromEntries(FIELDS.map((f) => [f, 'lone \ud800 surrogate'])),
  Object.fromEntries(FIELDS.map((f) => [f, { $gt: '' }])),
  Object.fromEntries(FIELDS.map((f) => [f, [1, null, '\u0000']])),
  Object.fromEntries(FIELDS.map((f) => [f, 1e308])),
  { '\u0000key': 'v', ['\udc00']: 'w' },
  deep(200),
  'x'.repeat(200_000),
  '{"unterminated": ',
  'null',
  '[]',
];

const QUERY = '?limit=-1&from=%00&to=%ED%A0%80&serviceId=%00&status[$ne]=x&at=not-a-time&order=sideways';

describe('scenarios: hostile input on every route', () => {
  let sys: PagingSystem;

  beforeAll(async () => {
    sys = await PagingSystem.start();
  });

  afterAll(async () => {
    await sys?.stop();
  });

  it('no route of any service answers 5xx to hostile input', async () => {
    const services: [string, Api][] = [
      ['alert-ingest', sys.ingest],
      ['oncall', sys.oncall],
      ['notifier', sys.notifier],
      ['incidents', sys.incidents],
    ];
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    const statuses: Record<number, number> = {};
    for (const [name, api] of services) {
      const doc = (await api.get('/api/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
      for (const [template, methods] of Object.entries(doc.paths)) {
        // The test clock is the harness's own lever, not an API a person uses.
        if (template.startsWith('/test/')) continue;
        for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
          const route = `${name} ${method} ${template}`;
          const paths = template.includes('{') ? PATH_VALUES.map((v) => template.replace(/\{[^}]+\}/g, v)) : [template];
          const requests: [string, unknown][] = [];
          for (const path of paths) {
            requests.push([`${path}${QUERY}`, undefined]);
            if (method !== 'GET' && method !== 'HEAD') for (const body of BODIES) requests.push([path, body]);
          }
          for (const [path, body] of requests) {
            const res = await api.request(method, path, body, typeof body === 'string' ? { 'content-type': 'application/json' } : {});
            counts[route] = (counts[route] ?? 0) + 1;
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status >= 500) failures.push(`${route}: ${method} ${path.slice(0, 120)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
          }
        }
      }
      // Still up and answering.
      expect((await api.get('/health/live')).status).toBe(200);
    }
    process.stdout.write(
      `[hostile-routes] ${Object.keys(counts).length} routes, ${Object.values(counts).reduce((a, b) => a + b, 0)} requests; answers ${JSON.stringify(statuses)}\n${Object.entries(
        counts,
      )
        .map(([r, n]) => `  ${n}\t${r}`)
        .join('\n')}\n`,
    );
    expect(failures).toEqual([]);
    expect(Object.keys(counts).length).toBeGreaterThan(100);
  });
});
