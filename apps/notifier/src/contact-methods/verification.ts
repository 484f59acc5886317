import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** Six random digits: what a new phone number must read back to prove it reaches its owner. */
export function newVerificationCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Codes are stored as an HMAC, never in the clear. */
export function hashVerificationCode(secret: string, contactMethodId: string, code: string): string {
  return createHmac('sha256', secret).update(`klaxon-verify:${contactMethodId}:${code}`).digest('hex');
}

export function verificationCodeMatches(secret: string, contactMethodId: string, code: string, hash: string): boolean {
  const given = Buffer.from(hashVerificationCode(secret, contactMethodId, code.trim()), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** At most this many wrong codes per code sent, and this long between two sends. */
export const MAX_VERIFICATION_ATTEMPTS = 5;
export const RESEND_AFTER_MS = 30_000;
export const MAX_SENDS_PER_METHOD = 10;

/**
 * Codes a number can be sent in a day, whoever adds it and however often its contact method is
 * deleted and added again; and codes one user can have sent in a day, to any numbers. Without
 * these, anyone with a token could make Klaxon text or call any number without end.
 */
export const MAX_CODES_PER_NUMBER_PER_DAY = 10;
export const MAX_CODES_PER_USER_PER_DAY = 20;
