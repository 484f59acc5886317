import { CommonEnv, ConfigError, parseConfig } from './config.js';

const valid = {
  PORT: '3001',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/klaxon_oncall',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  AUTH_SECRET: 'x'.repeat(32),
  AUTH_PUBLIC_KEYS: JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'KwcN-9fIeGMH8yJoNMEJToJFgAz2dZRJJSXGqxjNF48', kid: 'k1' }] }),
};

describe('configuration', () => {
  it('parses a valid environment into typed values with defaults', () => {
    const c = parseConfig(CommonEnv, valid);
    expect(c.PORT).toBe(3001);
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(c.KAFKA_TOPIC_PREFIX).toBe('');
    expect(c.MIGRATE_ON_START).toBe(true);
    expect(c.KAFKA_SESSION_TIMEOUT_MS).toBe(10000);
  });

  it('takes token keys as JSON: public keys only in AUTH_PUBLIC_KEYS, and says what is wrong', () => {
    expect(parseConfig(CommonEnv, valid).AUTH_PUBLIC_KEYS).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: 'KwcN-9fIeGMH8yJoNMEJToJFgAz2dZRJJSXGqxjNF48', kid: 'k1' },
    ]);
    expect(() => parseConfig(CommonEnv, { ...valid, AUTH_PUBLIC_KEYS: '{not json' })).toThrow('AUTH_PUBLIC_KEYS is invalid: must be JSON');
    const withPrivate = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: 'KwcN-9fIeGMH8yJoNMEJToJFgAz2dZRJJSXGqxjNF48',
      d: 'A0mlR6RXh8ByUdc057ZYjXXo6w_Idpx7ba7NRCYm8ls',
      kid: 'k1',
    };
    expect(() => parseConfig(CommonEnv, { ...valid, AUTH_PUBLIC_KEYS: JSON.stringify([withPrivate]) })).toThrow(
      'AUTH_PUBLIC_KEYS is invalid: holds a private key (d): other services get only public keys (got "<redacted>")',
    );
    expect(parseConfig(CommonEnv, { ...valid, AUTH_SIGNING_KEY: JSON.stringify(withPrivate) }).AUTH_SIGNING_KEY).toEqual(withPrivate);
  });

  it('names the missing variable', () => {
    const { DATABASE_URL: _, ...env } = valid;
    expect(() => parseConfig(CommonEnv, env)).toThrow(new ConfigError('DATABASE_URL is missing'));
  });

  it('names the bad variable, what it must be, and what it got', () => {
    expect(() => parseConfig(CommonEnv, { ...valid, PORT: '99999' })).toThrow('PORT is invalid: must be at most 65535 (got "99999")');
    expect(() => parseConfig(CommonEnv, { ...valid, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL is invalid: must be a PostgreSQL URL/);
  });

  it('never repeats a secret it rejects', () => {
    expect(() => parseConfig(CommonEnv, { ...valid, AUTH_SECRET: 'short-secret' })).toThrow(
      'AUTH_SECRET is invalid: must be at least 32 characters (it keys links and verification codes) (got "<redacted>")',
    );
  });

  it('refuses placeholder and published secrets with NODE_ENV=production, and says how to make one', () => {
    const prod = { ...valid, NODE_ENV: 'production', AUTH_SECRET: 'k7Qp2vX9mL4nR8tY1wE6zA3bC5dF0gHj' };
    expect(parseConfig(CommonEnv, prod).NODE_ENV).toBe('production');
    for (const placeholder of [
      'change-me-change-me-change-me-change-me',
      'replace-with-64-random-hex-characters-replace-with-64-random-hex',
      'x'.repeat(32),
      'test-secret-0123456789abcdef0123456789abcdef',
    ]) {
      expect(() => parseConfig(CommonEnv, { ...prod, AUTH_SECRET: placeholder })).toThrow(
        'AUTH_SECRET is a placeholder or a well-known default, refused with NODE_ENV=production: generate one (openssl rand -base64 48) and keep it in a secret store',
      );
    }
    expect(() => parseConfig(CommonEnv, { ...prod, BOOTSTRAP_ADMIN_TOKEN: 'change-me-admin-token-0123456789' })).toThrow(
      /^BOOTSTRAP_ADMIN_TOKEN is a placeholder/,
    );
    // Outside production the same values start (the local stack and the tests make their own).
    expect(parseConfig(CommonEnv, { ...valid, AUTH_SECRET: 'change-me-change-me-change-me-change-me' }).AUTH_SECRET).toHaveLength(39);
  });

  it('treats empty strings as unset and refuses a test clock outside tests', () => {
    expect(parseConfig(CommonEnv, { ...valid, KAFKA_TOPIC_PREFIX: '' }).KAFKA_TOPIC_PREFIX).toBe('');
    expect(() => parseConfig(CommonEnv, { ...valid, TEST_CLOCK: 'true', NODE_ENV: 'production' })).toThrow(/TEST_CLOCK is set but NODE_ENV is not "test"/);
    expect(parseConfig(CommonEnv, { ...valid, TEST_CLOCK: 'true', NODE_ENV: 'test' }).TEST_CLOCK).toBe(true);
  });
});
