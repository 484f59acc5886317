import { createHash, randomBytes } from 'node:crypto';

/**
 * Integration keys: 32 characters like PagerDuty's routing keys (so senders' validators accept
 * them), shown once, stored only as a SHA-256 digest. A digest is enough: the key is random and
 * long, so there is nothing to brute-force, and lookups stay one indexed equality.
 */
export function newIntegrationKey(): string {
  return randomBytes(16).toString('hex');
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The last four characters, to tell keys apart in lists without revealing them. */
export function keyHint(key: string): string {
  return `…${key.slice(-4)}`;
}
