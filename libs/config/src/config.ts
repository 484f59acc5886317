import { z } from 'zod';

/*
 * Every environment variable a service reads is declared once, here or in the service's own schema,
 * and validated at boot. Code asks the typed config object, never process.env.
 */

const brokerList = z
  .string()
  .min(1)
  .refine((s) => s.split(',').every((b) => /^[^\s:,]+:\d{1,5}$/.test(b.trim())), {
    message: 'must be a comma-separated list of host:port, e.g. 127.0.0.1:9092',
  })
  .transform((s) => s.split(',').map((b) => b.trim()));

const postgresUrl = z
  .string()
  .min(1)
  .refine((s) => /^postgres(ql)?:\/\/.+\/[^/]+$/.test(s), {
    message: 'must be a PostgreSQL URL naming a database, e.g. postgres://postgres@127.0.0.1:5432/klaxon_oncall',
  });

const port = z.coerce.number({ message: 'must be a port number' }).int('must be a whole number').min(0).max(65535, 'must be at most 65535');

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** JSON in an environment variable (a JWK, a JWKS), parsed, or an issue saying it is not JSON. */
const json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON (a JWK, or a JWKS {"keys": [...]})' });
    return z.NEVER;
  }
});

const ed25519 = z.object({
  kty: z.literal('OKP', { message: 'keys are Ed25519 JWKs (kty "OKP", crv "Ed25519"): make them with npm run keys' }),
  crv: z.literal('Ed25519', { message: 'keys are Ed25519 JWKs (crv "Ed25519"): make them with npm run keys' }),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'x must be a base64url Ed25519 public key'),
  kid: z.string().min(1, 'every key needs a kid (its name, e.g. "2026-12")').max(100),
});

/** The public keys tokens are checked with (a JWKS, a list of JWKs or one JWK); never a private key. */
const publicKeys = json.pipe(
  z
    .union([z.object({ keys: z.array(z.unknown()) }).transform((j) => j.keys), z.array(z.unknown()), z.unknown().transform((k) => [k])])
    .pipe(
      z
        .array(ed25519.extend({ d: z.never({ message: 'holds a private key (d): other services get only public keys' }).optional() }))
        .min(1, 'needs at least one key'),
    ),
);

/** Oncall's private signing key: an Ed25519 JWK with d. */
const signingKey = json.pipe(ed25519.extend({ d: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'd must be a base64url Ed25519 private key') }));

/** Ed25519 public keys published in this repository (tests, docs): refused with NODE_ENV=production. */
export const PUBLISHED_SIGNING_KEYS = ['ROp5Xbj92HYre5CAQ-C8uJPCXORyWZzc5HUsK7F_6RU'];

export const CommonEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port,
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  KAFKA_BROKERS: brokerList,
  /** Prepended to every topic name; tests use one per run. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"')
    .default(''),
  /**
   * How long Kafka waits for a consumer that stopped heartbeating (a crashed process) before
   * giving its partitions to another: the pause in event handling after a kill -9 (`npm run
   * chaos` measures it). It must be at least the broker's group.min.session.timeout.ms (6 s
   * unless the broker is told otherwise; the local runtime's broker allows 1 s).
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300000).default(10000),
  /**
   * Consecutive events of one partition handled in one PostgreSQL transaction when they queue (a
   * storm): one commit for many. Each event is still recorded as processed on its own; 1 turns it off.
   */
  KAFKA_EVENTS_PER_TRANSACTION: z.coerce.number().int().min(1).max(1000).default(100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Keys notifier's acknowledgement links and verification codes; at least 32 characters. Tokens use the keys below. */
  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters (it keys links and verification codes)').optional(),
  /** The Ed25519 public keys API tokens are checked with (JWKS JSON); every service needs them. */
  AUTH_PUBLIC_KEYS: publicKeys,
  /** The Ed25519 private key tokens are signed with (JWK JSON): oncall's alone; other services refuse to start with it. */
  AUTH_SIGNING_KEY: signingKey.optional(),
  /** Accepted as an admin bearer token so the first user can be created; unset it once real tokens exist. */
  BOOTSTRAP_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** A bearer token for Prometheus to scrape /metrics with; with NODE_ENV=production /metrics needs it (or an admin token). */
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  MIGRATE_ON_START: bool.default(true),
  /** A request whose body has not fully arrived this long after it started is answered 408 and its connection closed (slow senders cannot hold workers). */
  HTTP_BODY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(30),
  /** Lets a test fast-forward this process's clock over HTTP. Refused unless NODE_ENV=test. */
  TEST_CLOCK: bool.default(false),
  /** Test-only fault injection: the named crash point kills the process with SIGKILL. */
  CRASH_AT: z.string().optional(),
  /**
   * Set by a supervisor that started this process (`npm start`, the tests): once that process is
   * gone (kill -9, a closed terminal) this one stops too, instead of living on and holding its port.
   */
  SUPERVISOR_PID: z.coerce.number().int().positive().optional(),
});

export type CommonConfig = z.output<typeof CommonEnv>;

export class ConfigError extends Error {}

/** Parses the environment against a schema; throws ConfigError naming the first bad variable. */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  // Empty strings count as unset, as in most dotenv tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) {
    const cfg = result.data as z.output<S> & Partial<CommonConfig>;
    if (cfg.TEST_CLOCK && cfg.NODE_ENV !== 'test')
      throw new ConfigError('TEST_CLOCK is set but NODE_ENV is not "test": a controllable clock is for tests only');
    if (cfg.NODE_ENV === 'production') {
      for (const name of SECRETS) {
        const value = (cfg as Record<string, unknown>)[name];
        if (typeof value === 'string' && isPlaceholderSecret(value))
          throw new ConfigError(
            `${name} is a placeholder or a well-known default, refused with NODE_ENV=production: generate one (openssl rand -base64 48) and keep it in a secret store`,
          );
      }
      const keys = [...(cfg.AUTH_PUBLIC_KEYS ?? []), ...(cfg.AUTH_SIGNING_KEY ? [cfg.AUTH_SIGNING_KEY] : [])];
      const published = keys.find((k) => PUBLISHED_SIGNING_KEYS.includes(k.x));
      if (published)
        throw new ConfigError(
          `${cfg.AUTH_SIGNING_KEY?.x === published.x ? 'AUTH_SIGNING_KEY' : 'AUTH_PUBLIC_KEYS'} holds a key published with Klaxon (kid "${published.kid}"), refused with NODE_ENV=production: make your own with npm run keys`,
        );
    }
    return cfg;
  }
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? '(environment)');
  const got = env[name];
  const message = got === undefined || got === '' ? `${name} is missing` : `${name} is invalid: ${issue.message}`;
  throw new ConfigError(got === undefined || got === '' ? `${message}${hint(issue)}` : `${message} (got "${redactValue(name, got)}")`);
}

/** Variables that grant power: in production none may be a placeholder or a value published anywhere. */
const SECRETS = ['AUTH_SECRET', 'BOOTSTRAP_ADMIN_TOKEN', 'TWILIO_AUTH_TOKEN', 'METRICS_TOKEN'];

/**
 * A value nobody should run production on: the words people put in examples (change-me, replace,
 * example, placeholder, secret, password, test…), sequences such as 0123456789, or text
 * with too little variety to have come from a random generator (fewer than 10 distinct characters).
 */
export function isPlaceholderSecret(value: string): boolean {
  const v = value.toLowerCase();
  if (/change.?me|replace|example|placeholder|dummy|default|secret|password|passw0rd|insecure|^test|sample/.test(v)) return true;
  if (/(0123456789|abcdef0123|123456|abcdefgh|qwerty)/.test(v)) return true;
  return new Set(value).size < 10;
}

function hint(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' ? '' : `: ${issue.message}`;
}

function redactValue(name: string, value: string): string {
  if (/SECRET|TOKEN|PASSWORD|KEY/i.test(name)) return '<redacted>';
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

export const env = { brokerList, postgresUrl, port, bool };

/** Injection token for a service's typed configuration. */
export const CONFIG = Symbol('KLAXON_CONFIG');
