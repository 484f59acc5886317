import { randomBytes } from 'node:crypto';

/** What the global setup prepared: a PostgreSQL server, Kafka brokers and this run's id. */
export interface TestInfra {
  runId: string;
  pgBase: string;
  brokers: string;
}

export function testInfra(): TestInfra {
  const runId = process.env.KLAXON_TEST_RUN;
  const pgBase = process.env.KLAXON_TEST_PG;
  const brokers = process.env.KLAXON_TEST_KAFKA;
  if (!runId || !pgBase || !brokers)
    throw new Error('integration tests need the global setup (run them through `npm test` or `jest --selectProjects integration`)');
  return { runId, pgBase, brokers };
}

/** A short unique id for a test's world: its databases and topic prefix carry it. */
export function uniqueId(): string {
  return randomBytes(4).toString('hex');
}

export const TEST_AUTH_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
/** The tests' token signing key (published here, so refused with NODE_ENV=production) and its public half. */
export const TEST_SIGNING_KEY = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: 'ROp5Xbj92HYre5CAQ-C8uJPCXORyWZzc5HUsK7F_6RU',
  d: 'cBuy9IKij4NT6uw6HLXiNlGkniqCOwFZA6N5TS59MbQ',
  kid: 'test-2026-12',
} as const;
export const TEST_PUBLIC_KEYS = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: TEST_SIGNING_KEY.x, kid: TEST_SIGNING_KEY.kid }] } as const;
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export async function eventually<T>(
  fn: () => Promise<T | undefined | false | null>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${opts.what ?? 'condition'} not met within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port nothing listens on right now (the OS picks it), for a test's own Kafka or stack. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
