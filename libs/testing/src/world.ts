import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { TokenService, type SigningJwk } from '#libs/auth';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { buildEvent, topicName, topicOf, type EventInput, type EventType, type TopicId } from '#libs/contracts';
import { ensureTopics } from '#libs/messaging';
import { ServiceProcess, type ServiceName } from '#libs/devstack';
import { startService, type RunningService, type ServiceDefinition, type StartOptions } from '#libs/platform';
import type { Clock } from '#libs/clock';
import { TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, TEST_PUBLIC_KEYS, TEST_SIGNING_KEY, testInfra, uniqueId, type TestInfra } from './infra.js';
import { KafkaTap, produceRaw } from './kafka-tap.js';

// libs/testing/src in the sources (jest), dist/libs/testing/src when built (benchmarks).
const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../../../..' : '../../..');

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for a service's API, with the test admin token unless told otherwise. */
export class Api {
  constructor(
    readonly url: string,
    private readonly token: string | null = TEST_ADMIN_TOKEN,
  ) {}

  as(token: string | null): Api {
    return new Api(this.url, token);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body ?? {}, headers);
  }
  put<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, body ?? {});
  }
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('PATCH', path, body ?? {});
  }
  delete<T = any>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path);
  }
}

/**
 * One test's world: its own databases (one per service), its own Kafka topic prefix, and the
 * services it runs, in this process or as separate processes. `close()` stops them all.
 */
export class TestWorld {
  readonly id = uniqueId();
  readonly infra: TestInfra = testInfra();
  readonly prefix = `t${this.id}.`;
  private readonly processes: ServiceProcess[] = [];
  private readonly running: RunningService[] = [];
  private readonly taps: KafkaTap[] = [];

  databaseUrl(service: string): string {
    return `${this.infra.pgBase}/klx_${this.infra.runId}_${this.id}_${service.replace(/-/g, '_')}`;
  }

  topic(id: TopicId): string {
    return topicName(id, this.prefix);
  }

  env(service: string, overrides: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: this.databaseUrl(service),
      KAFKA_BROKERS: this.infra.brokers,
      KAFKA_TOPIC_PREFIX: this.prefix,
      AUTH_SECRET: TEST_AUTH_SECRET,
      AUTH_PUBLIC_KEYS: JSON.stringify(TEST_PUBLIC_KEYS),
      // Only oncall signs tokens; the others refuse to start with the private key.
      ...(service === 'oncall' ? { AUTH_SIGNING_KEY: JSON.stringify(TEST_SIGNING_KEY) } : {}),
      BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      LOG_LEVEL: process.env.KLAXON_TEST_LOG_LEVEL ?? 'error',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      // The broker's minimum: crash tests recover in seconds.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ...overrides,
    };
  }

  /** Runs a service inside the test process (a clock can be injected). */
  async start<S extends ServiceDefinition>(
    def: S,
    opts: { env?: Record<string, string>; clock?: Clock; instance?: string } = {},
  ): Promise<RunningService & { api: Api }> {
    const options: StartOptions = { env: this.env(def.name, opts.env), clock: opts.clock };
    const svc = await startService(def, options);
    this.running.push(svc);
    return Object.assign(svc, { api: new Api(svc.url) });
  }

  /** Runs a built service as its own process (dist/ is built by the global setup). */
  async spawn(name: ServiceName, overrides: Record<string, string> = {}): Promise<ServiceProcess & { api: Api }> {
    const proc = new ServiceProcess({
      name,
      root: REPO_ROOT,
      env: this.env(name, overrides),
      logFile: path.join(REPO_ROOT, '.klaxon/test-logs', this.infra.runId, `${this.id}-${name}.log`),
    });
    this.processes.push(proc);
    await proc.start();
    // The port may change when the test restarts the process, so the client is made on each use.
    Object.defineProperty(proc, 'api', { get: () => new Api(proc.url) });
    return proc as ServiceProcess & { api: Api };
  }

  /** Publishes an event onto this world's topic as its producing service would (retrying while fresh topics elect leaders). */
  async publish<T extends EventType>(type: T, key: string, data: EventInput<T>, occurredAt = new Date()): Promise<void> {
    const event = buildEvent(type, key, data, { producer: 'test', correlationId: randomUUID(), occurredAt });
    // Fresh topics on a busy shared broker may still be electing leaders: retriable errors are waited out.
    for (let attempt = 1; ; attempt++) {
      try {
        await produceRaw(this.infra.brokers, topicOf(type, this.prefix), [{ key, value: JSON.stringify(event) }]);
        return;
      } catch (err) {
        if (attempt >= 60 || !(err as { retriable?: boolean }).retriable) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async tap(...topics: TopicId[]): Promise<KafkaTap> {
    // The services create their topics when they reach Kafka; a tap may be first.
    // Racing a service that creates them too, the broker may answer "does not host this
    // topic-partition" for a moment: try again.
    for (let attempt = 1; ; attempt++) {
      const admin = new Kafka({ clientId: 'klaxon-test-admin', brokers: this.infra.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
      try {
        await admin.connect();
        await ensureTopics(admin, this.prefix);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 300 * attempt));
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    // Right after a service creates its topics the broker may not have elected their leaders yet
    // ("does not host this topic-partition"): such retriable errors are waited out.
    for (let attempt = 1; ; attempt++) {
      const tap = new KafkaTap(
        this.infra.brokers,
        topics.map((t) => this.topic(t)),
      );
      try {
        await tap.start();
        this.taps.push(tap);
        return tap;
      } catch (err) {
        await tap.stop().catch(() => undefined);
        if (attempt >= 40 || !(err as { retriable?: boolean }).retriable) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.taps.map((t) => t.stop().catch(() => undefined)));
    await Promise.all(this.running.map((s) => s.close().catch(() => undefined)));
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL').catch(() => undefined)));
    // On a broker shared between runs (KAFKA_BROKERS given), remove this world's topics so they do
    // not pile up; a broker the setup started is thrown away whole at the end of the run.
    if (process.env.KLAXON_TEST_KAFKA_SHARED === '1') await this.deleteTopics().catch(() => undefined);
  }

  private async deleteTopics(): Promise<void> {
    const kafka = new Kafka({ clientId: 'klaxon-test-cleanup', brokers: this.infra.brokers.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(this.prefix));
      if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30000 });
    } finally {
      await admin.disconnect();
    }
  }
}

/** Runs a built service once with only this environment and waits for it to exit (configuration errors). */
export function runServiceOnce(name: ServiceName, env: Record<string, string>): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/apps', name, 'src/main.js')], {
    env: { PATH: process.env.PATH!, ...env },
    encoding: 'utf8',
    timeout: 20000,
  });
}

/** Mints tokens as oncall would (with the tests' signing key), for tests that play a user without oncall. */
export function testTokens(): TokenService {
  return new TokenService({ publicKeys: [...TEST_PUBLIC_KEYS.keys], signingKey: TEST_SIGNING_KEY });
}

/** A fresh Ed25519 key pair as oncall's AUTH_SIGNING_KEY and everyone's AUTH_PUBLIC_KEYS (for tests that run as production would). */
export function newSigningKeys(kid = `key-${uniqueId()}`): { signingKey: SigningJwk; publicKeys: { keys: SigningJwk[] } } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  const signingKey: SigningJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid };
  return { signingKey, publicKeys: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid }] } };
}
