import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Acknowledge/resolve links in email and push: `<link id>.<HMAC-SHA256(AUTH_SECRET, link id)>`.
 * The id names a row holding the action, its incidents, its expiry and whether it was used, so a
 * link is single-use and expires; the signature means a guessed or altered id is refused before
 * the database is asked.
 */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function signLink(secret: string, linkId: string): string {
  return `${linkId}.${mac(secret, linkId)}`;
}

/** The link id if the token is well formed and signed with this secret, else null. */
export function verifyLink(secret: string, token: string): string | null {
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!ID.test(id)) return null;
  const expected = Buffer.from(mac(secret, id));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}

function mac(secret: string, id: string): string {
  return createHmac('sha256', secret).update(`klaxon-link:${id}`).digest('base64url');
}
