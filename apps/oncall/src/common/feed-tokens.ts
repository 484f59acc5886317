import { createHash, randomBytes } from 'node:crypto';

/**
 * Calendar feeds are read by calendar apps that cannot send a bearer token, so the URL itself is
 * the secret: 256 random bits. Only its SHA-256 is stored, so the URL is shown once, when it is
 * made; making a new one revokes the old.
 */
export function newFeedToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashFeedToken(token) };
}

export function hashFeedToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const FEED_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
