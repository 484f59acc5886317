import { requireKnownUser } from '../directory/users.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { InvalidInputError } from '#libs/platform';

export const Urgency = z.enum(['high', 'low'], { message: 'must be "high" or "low"' });

export const RulesInput = z.strictObject({
  rules: z
    .array(
      z.strictObject({
        contactMethodId: z.uuid({ message: 'must be a contact method id (a UUID)' }),
        delayMinutes: z.number().int().min(0).max(1440, 'must be at most 1440 (a day)'),
      }),
    )
    .max(20, 'at most 20 rules per urgency'),
});
export type RulesInput = z.output<typeof RulesInput>;

export interface NotificationRule {
  contactMethodId: string;
  type: string;
  value: string;
  delayMinutes: number;
}

export interface NotificationRules {
  userId: string;
  high: NotificationRule[];
  low: NotificationRule[];
  /** What a page sends when an urgency has no rules. */
  default: string;
}

const DEFAULT = 'no rules for an urgency: every push device and the email address, at once';

/** Notification rules per user and urgency, PagerDuty style: (contact method, delay in minutes) pairs. */
@Injectable()
export class RulesService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async get(userId: string): Promise<NotificationRules> {
    await requireKnownUser(this.db, userId);
    return this.read(this.db.manager, userId);
  }

  /** Replaces the rules for one urgency. Each must name a verified contact method of this user. */
  async replace(userId: string, urgency: 'high' | 'low', input: RulesInput): Promise<NotificationRules> {
    await requireKnownUser(this.db, userId);
    return this.db.transaction(async (em) => {
      const ids = [...new Set(input.rules.map((r) => r.contactMethodId))];
      const methods: { id: string; verified: boolean; type: string; value: string }[] = ids.length
        ? await em.query('SELECT id, type, value, verified_at IS NOT NULL AS verified FROM contact_methods WHERE user_id = $1 AND id = ANY($2::uuid[])', [
            userId,
            ids,
          ])
        : [];
      for (const id of ids) {
        const m = methods.find((x) => x.id === id);
        if (!m) throw new InvalidInputError(`contact method ${id} is not one of this user's`);
        if (!m.verified) throw new InvalidInputError(`${m.type} ${m.value} is not verified yet: enter the code sent to it first`);
      }
      await em.query('DELETE FROM notification_rules WHERE user_id = $1 AND urgency = $2', [userId, urgency]);
      const seen = new Set<string>();
      for (const r of input.rules) {
        const k = `${r.contactMethodId}|${r.delayMinutes}`;
        if (seen.has(k)) continue;
        seen.add(k);
        await em.query('INSERT INTO notification_rules (id, user_id, urgency, contact_method_id, delay_minutes) VALUES ($1, $2, $3, $4, $5)', [
          randomUUID(),
          userId,
          urgency,
          r.contactMethodId,
          r.delayMinutes,
        ]);
      }
      return this.read(em, userId);
    });
  }

  private async read(em: EntityManager, userId: string): Promise<NotificationRules> {
    const rows: (NotificationRule & { urgency: 'high' | 'low' })[] = await em.query(
      `SELECT r.urgency, r.contact_method_id AS "contactMethodId", m.type, m.value, r.delay_minutes AS "delayMinutes"
       FROM notification_rules r JOIN contact_methods m ON m.id = r.contact_method_id
       WHERE r.user_id = $1 ORDER BY r.delay_minutes, m.type`,
      [userId],
    );
    const pick = (u: 'high' | 'low') => rows.filter((r) => r.urgency === u).map(({ urgency: _u, ...r }) => r);
    return { userId, high: pick('high'), low: pick('low'), default: DEFAULT };
  }
}
