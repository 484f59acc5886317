import { requireKnownUser } from '../directory/users.js';
import { Inject, Injectable } from '@nestjs/common';
import { queryRows } from '#libs/database';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError } from '#libs/platform';
import type { NotifierConfig } from '../config.js';
import { verificationSms, verificationVoiceScript } from '../notifications/content.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import type { Channel } from '../providers/channel.js';
import { normalizePhone } from './phone.js';
import {
  hashVerificationCode,
  MAX_SENDS_PER_METHOD,
  MAX_VERIFICATION_ATTEMPTS,
  newVerificationCode,
  RESEND_AFTER_MS,
  verificationCodeMatches,
  MAX_CODES_PER_NUMBER_PER_DAY,
  MAX_CODES_PER_USER_PER_DAY,
} from './verification.js';

export const CreateContactMethod = z.strictObject({
  type: z.enum(['sms', 'voice', 'push', 'email']),
  /** A phone number (E.164, or national with `country`), an email address, or a push registration token. */
  value: z.string().trim().min(1).max(4096),
  label: z.string().trim().max(100).default(''),
  /** ISO country for a number written without +country code, e.g. "US". */
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as US')
    .optional(),
  /** Also tell this contact method when someone else acknowledges or resolves an incident it was paged for (not for voice). */
  statusUpdates: z.boolean().default(false),
});
export type CreateContactMethod = z.output<typeof CreateContactMethod>;

export const UpdateContactMethod = z
  .strictObject({ label: z.string().trim().max(100).optional(), statusUpdates: z.boolean().optional() })
  .refine((u) => u.label !== undefined || u.statusUpdates !== undefined, { message: 'send "label" and/or "statusUpdates"' });
export type UpdateContactMethod = z.output<typeof UpdateContactMethod>;

export interface ContactMethod {
  id: string;
  userId: string;
  type: Channel;
  value: string;
  label: string;
  verified: boolean;
  statusUpdates: boolean;
  createdAt: string;
}

interface ContactMethodRow {
  id: string;
  user_id: string;
  type: Channel;
  value: string;
  label: string;
  verified_at: Date | null;
  verification_code_hash: string | null;
  verification_expires_at: Date | null;
  verification_attempts: number;
  verification_sent_at: Date | null;
  verification_sends: number;
  status_updates: boolean;
  created_at: Date;
}

const PUSH_TOKEN = /^[A-Za-z0-9_:\-.]{20,4096}$/;
const Email = z.email();

function toApi(r: ContactMethodRow): ContactMethod {
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type,
    value: r.value,
    label: r.label,
    verified: r.verified_at !== null,
    statusUpdates: r.status_updates,
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * A user's contact methods. Phone numbers are stored in E.164 and must read back a code sent to
 * them before any page goes there; email addresses and push devices (registered by the signed-in
 * app) count as verified.
 */
@Injectable()
export class ContactMethodsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly notifications: NotificationsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: NotifierConfig,
  ) {}

  async list(userId: string): Promise<ContactMethod[]> {
    await requireKnownUser(this.db, userId);
    const rows: ContactMethodRow[] = await this.db.query('SELECT * FROM contact_methods WHERE user_id = $1 ORDER BY created_at, id', [userId]);
    return rows.map(toApi);
  }

  async create(userId: string, input: CreateContactMethod): Promise<ContactMethod> {
    const value = this.normalize(input);
    if (input.statusUpdates && input.type === 'voice') throw new InvalidInputError('status updates go by SMS, push or email, not by phone call');
    await requireKnownUser(this.db, userId);
    return this.db.transaction(async (em) => {
      const id = randomUUID();
      const now = this.clock.now();
      const phone = input.type === 'sms' || input.type === 'voice';
      const [row]: ContactMethodRow[] = await em.query(
        `INSERT INTO contact_methods (id, user_id, type, value, label, verified_at, status_updates, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id, type, value) DO NOTHING RETURNING *`,
        [id, userId, input.type, value, input.label, phone ? null : now, input.statusUpdates, now],
      );
      if (!row) throw new ConflictError(`this user already has ${input.type} contact method ${value}`);
      if (phone) await this.sendCode(em, row, now);
      return toApi((await this.find(em, userId, id))!);
    });
  }

  async update(userId: string, id: string, input: UpdateContactMethod): Promise<ContactMethod> {
    return this.db.transaction(async (em) => {
      const row = await this.find(em, userId, id, true);
      if (!row) throw new NotFoundError('Contact method', id);
      if (input.statusUpdates && row.type === 'voice') throw new InvalidInputError('status updates go by SMS, push or email, not by phone call');
      await em.query('UPDATE contact_methods SET label = coalesce($2, label), status_updates = coalesce($3, status_updates) WHERE id = $1', [
        id,
        input.label ?? null,
        input.statusUpdates ?? null,
      ]);
      return toApi((await this.find(em, userId, id))!);
    });
  }

  async remove(userId: string, id: string): Promise<void> {
    const [, count] = await this.db.query<[unknown, number]>('DELETE FROM contact_methods WHERE id = $1 AND user_id = $2', [id, userId]);
    if (!count) throw new NotFoundError('Contact method', id);
  }

  /** Sends a new code (the previous one stops working). */
  async resendCode(userId: string, id: string): Promise<ContactMethod> {
    return this.db.transaction(async (em) => {
      const row = await this.find(em, userId, id, true);
      if (!row) throw new NotFoundError('Contact method', id);
      if (row.verified_at) throw new ConflictError('this contact method is already verified');
      if (row.type !== 'sms' && row.type !== 'voice') throw new ConflictError(`${row.type} contact methods need no verification`);
      const now = this.clock.now();
      if (row.verification_sent_at && now.getTime() - row.verification_sent_at.getTime() < RESEND_AFTER_MS) {
        throw new TooManyRequestsError(`a code was sent less than ${RESEND_AFTER_MS / 1000} seconds ago; wait a moment before asking for another`);
      }
      if (row.verification_sends >= MAX_SENDS_PER_METHOD) {
        throw new TooManyRequestsError(`${MAX_SENDS_PER_METHOD} codes were sent to this number already; delete the contact method and add it again`);
      }
      await this.sendCode(em, row, now);
      return toApi((await this.find(em, userId, id))!);
    });
  }

  async verify(userId: string, id: string, code: string): Promise<ContactMethod> {
    // A wrong code is counted, so that transaction commits and the refusal is thrown after it.
    const result = await this.db.transaction(async (em): Promise<{ verified: ContactMethod } | { attemptsLeft: number }> => {
      const row = await this.find(em, userId, id, true);
      if (!row) throw new NotFoundError('Contact method', id);
      if (row.verified_at) return { verified: toApi(row) };
      if (!row.verification_code_hash || !row.verification_expires_at) throw new ConflictError('no code was sent to this contact method; ask for one first');
      const now = this.clock.now();
      if (row.verification_expires_at.getTime() <= now.getTime()) throw new InvalidInputError('this code has expired: ask for a new one (POST …/verification)');
      if (row.verification_attempts >= MAX_VERIFICATION_ATTEMPTS) throw new InvalidInputError('too many wrong codes: ask for a new one (POST …/verification)');
      if (!verificationCodeMatches(this.config.AUTH_SECRET, row.id, code, row.verification_code_hash)) {
        await em.query('UPDATE contact_methods SET verification_attempts = verification_attempts + 1 WHERE id = $1', [id]);
        return { attemptsLeft: MAX_VERIFICATION_ATTEMPTS - row.verification_attempts - 1 };
      }
      await em.query('UPDATE contact_methods SET verified_at = $2, verification_code_hash = NULL, verification_expires_at = NULL WHERE id = $1', [id, now]);
      return { verified: toApi((await this.find(em, userId, id))!) };
    });
    if ('verified' in result) return result.verified;
    const left = result.attemptsLeft;
    throw new InvalidInputError(
      left > 0
        ? `that code is not right; ${left} attempt${left === 1 ? '' : 's'} left`
        : 'that code is not right, and it was the last attempt: ask for a new code',
    );
  }

  private async sendCode(em: EntityManager, row: ContactMethodRow, now: Date): Promise<void> {
    const [sent] = await queryRows<{ to_number: number; by_user: number }>(
      em,
      `SELECT count(*) FILTER (WHERE destination = $1)::int AS to_number, count(*) FILTER (WHERE user_id = $2)::int AS by_user
       FROM notifications WHERE kind = 'verification' AND created_at > $3 AND (destination = $1 OR user_id = $2)`,
      [row.value, row.user_id, new Date(now.getTime() - 86_400_000)],
    );
    if (sent!.to_number >= MAX_CODES_PER_NUMBER_PER_DAY || sent!.by_user >= MAX_CODES_PER_USER_PER_DAY) {
      const which =
        sent!.to_number >= MAX_CODES_PER_NUMBER_PER_DAY
          ? `${MAX_CODES_PER_NUMBER_PER_DAY} codes were sent to ${row.value}`
          : `${MAX_CODES_PER_USER_PER_DAY} codes were sent for this user`;
      throw new TooManyRequestsError(`${which} in the last 24 hours; try again tomorrow`);
    }
    const code = newVerificationCode();
    const ttl = this.config.VERIFICATION_TTL_MINUTES;
    await em.query(
      `UPDATE contact_methods SET verification_code_hash = $2, verification_expires_at = $3, verification_attempts = 0,
         verification_sent_at = $4, verification_sends = verification_sends + 1 WHERE id = $1`,
      [row.id, hashVerificationCode(this.config.AUTH_SECRET, row.id, code), new Date(now.getTime() + ttl * 60_000), now],
    );
    const base = this.config.PUBLIC_URL;
    const key = `verify:${row.id}:${row.verification_sends + 1}`;
    if (row.type === 'sms') {
      await this.notifications.enqueueDirect(em, {
        kind: 'verification',
        key,
        userId: row.user_id,
        channel: 'sms',
        destination: row.value,
        contactMethodId: row.id,
        message: (id) => ({
          notificationId: id,
          to: row.value,
          body: verificationSms(code, ttl),
          statusCallbackUrl: `${base}/api/v1/twilio/sms/status?n=${id}`,
        }),
      });
    } else {
      await this.notifications.enqueueDirect(em, {
        kind: 'verification',
        key,
        userId: row.user_id,
        channel: 'voice',
        destination: row.value,
        contactMethodId: row.id,
        message: (id) => ({
          notificationId: id,
          to: row.value,
          script: verificationVoiceScript(code),
          gatherUrl: `${base}/api/v1/twilio/voice/gather?n=${id}`,
          statusCallbackUrl: `${base}/api/v1/twilio/voice/status?n=${id}`,
          machineDetection: false,
        }),
      });
    }
  }

  private normalize(input: CreateContactMethod): string {
    switch (input.type) {
      case 'sms':
      case 'voice': {
        const r = normalizePhone(input.value, input.country);
        if ('error' in r) throw new InvalidInputError(r.error);
        return r.e164;
      }
      case 'email':
        if (!Email.safeParse(input.value).success) throw new InvalidInputError(`"${input.value}" is not an email address`);
        return input.value.toLowerCase();
      case 'push':
        if (!PUSH_TOKEN.test(input.value))
          throw new InvalidInputError('value must be the device\'s FCM registration token: 20 to 4096 letters, digits, ":", "-", "_" and "."');
        return input.value;
    }
  }

  private async find(em: EntityManager, userId: string, id: string, lock = false): Promise<ContactMethodRow | undefined> {
    const [row]: ContactMethodRow[] = await em.query(`SELECT * FROM contact_methods WHERE id = $1 AND user_id = $2 ${lock ? 'FOR UPDATE' : ''}`, [id, userId]);
    return row;
  }
}
