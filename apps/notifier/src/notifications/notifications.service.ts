import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData, EventInput } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { Outbox, Timers } from '#libs/messaging';
import { LOGGER } from '#libs/platform';
import type { Channel, EmailMessage, MessageOf } from '../providers/provider.js';
import { planNotifications, type ContactMethodInfo, type RuleInfo } from '../rules/plan.js';
import { maskDestination, stakeholderEmail, statusLine, type Page } from './content.js';
import { incidentTimerPrefix, SEND, sendKey, type NotificationKind, type NotificationRow, type StatusUpdate } from './notification.js';

/**
 * What notifier owes people, decided in the consumer's (or API's) transaction: page requests
 * become one notification per notification rule, each with a durable send timer at its delay;
 * acknowledging or resolving an incident cancels what is still waiting; a failed message moves
 * the page on to the next contact method at once.
 */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A page for a user: one notification per rule for the incident's urgency, each at its delay. */
  async onPageRequested(em: EntityManager, page: Page): Promise<void> {
    // Keep a copy of the incident even before its own events arrive, to answer replies about it;
    // the same statement reads who is paged, their contact methods and their rules.
    const [found] = await queryRows<{
      status: string;
      changed_at: Date;
      user: { email: string; deleted: boolean } | null;
      methods: ContactMethodInfo[];
      rules: RuleInfo[];
    }>(
      em,
      `WITH incident AS (
         INSERT INTO incidents (id, number, title, status, changed_at) VALUES ($1, $2, $3, 'triggered', $4)
         ON CONFLICT (id) DO UPDATE SET title = CASE WHEN incidents.title = '' THEN EXCLUDED.title ELSE incidents.title END
         RETURNING status, changed_at)
       SELECT incident.status, incident.changed_at,
         (SELECT row_to_json(u) FROM (SELECT email, deleted FROM users WHERE id = $5) u) AS "user",
         coalesce((SELECT json_agg(m ORDER BY m.created_at) FROM (SELECT id, type, value, verified_at IS NOT NULL AS verified, created_at FROM contact_methods WHERE user_id = $5) m), '[]') AS methods,
         coalesce((SELECT json_agg(r) FROM (SELECT urgency, contact_method_id AS "contactMethodId", delay_minutes AS "delayMinutes" FROM notification_rules WHERE user_id = $5) r), '[]') AS rules
       FROM incident`,
      [page.incidentId, page.incidentNumber, page.title, page.requestedAt, page.userId],
    );
    const who = found!;
    if (who.user?.deleted) {
      this.logger.warn({ userId: page.userId, incidentId: page.incidentId }, 'page for a deleted user; nothing sent');
      return;
    }
    if (who.status !== 'triggered' && who.changed_at.getTime() >= new Date(page.requestedAt).getTime()) {
      // Acknowledged or resolved after this page was requested: it is stale (a re-trigger carries a later time).
      this.logger.info(
        { incidentId: page.incidentId, pageId: page.pageId, status: who.status, since: who.changed_at.toISOString() },
        'page for an incident no longer triggered; nothing sent',
      );
      return;
    }
    // A user paged a moment after being created may not have reached notifier yet: use the email oncall put in the page.
    const plan = planNotifications({ urgency: page.urgency, rules: who.rules, methods: who.methods, email: who.user?.email ?? page.userEmail });
    const now = this.clock.now();
    // Rule delays count from when oncall asked, but never from a time still ahead of this clock:
    // a host whose clock runs fast must not hold a page back.
    const requested = Math.min(new Date(page.requestedAt).getTime(), now.getTime());
    await this.insert(
      em,
      plan.map((p) => ({
        kind: 'page' as const,
        pageId: page.pageId,
        incidentId: page.incidentId,
        userId: page.userId,
        channel: p.channel,
        destination: p.destination,
        contactMethodId: p.contactMethodId,
        ruleKey: p.ruleKey,
        page,
        dueAt: new Date(requested + p.delayMinutes * 60_000),
      })),
      now,
    );
  }

  /** Stakeholder updates go by email to each listed recipient, once per update and address. */
  async onStakeholderUpdate(em: EntityManager, u: EventData<'stakeholder-update.requested'>): Promise<void> {
    const content = stakeholderEmail(u);
    const now = this.clock.now();
    // Each address once, however it is capitalised (the first spelling wins).
    const recipients = [...new Map([...u.recipients].reverse().map((r) => [r.email.toLowerCase(), r.email])).values()];
    await this.insert(
      em,
      recipients.map((to) => {
        const id = randomUUID();
        const message: EmailMessage = { notificationId: id, to, ...content };
        return {
          id,
          kind: 'stakeholder' as const,
          pageId: `update:${u.updateId}`,
          incidentId: u.incidentId,
          userId: null,
          channel: 'email' as const,
          destination: to,
          contactMethodId: null,
          ruleKey: 'default',
          page: { updateId: u.updateId, incidentNumber: u.number, title: u.title },
          message,
          dueAt: now,
        };
      }),
      now,
    );
  }

  /**
   * Someone acknowledged or resolved an incident: each other person it reached, on each of their
   * contact methods that asked for status updates, is told who did it.
   */
  // A page still 'sending' counts as reaching them: the acknowledgement may overtake its recording.
  async onIncidentChanged(
    em: EntityManager,
    e: { incidentId: string; number: number; status: 'acknowledged' | 'resolved'; byUserId: string | null; byName: string | null },
  ): Promise<void> {
    const recipients: { id: string; user_id: string; type: Channel; value: string; by_name: string | null }[] = await em.query(
      `SELECT DISTINCT cm.id, cm.user_id, cm.type, cm.value, (SELECT name FROM users WHERE id = $2) AS by_name
       FROM notifications n JOIN contact_methods cm ON cm.user_id = n.user_id
       WHERE n.incident_id = $1 AND n.kind = 'page' AND n.status IN ('sending', 'sent', 'delivered') AND n.user_id IS DISTINCT FROM $2
         AND cm.status_updates AND cm.verified_at IS NOT NULL`,
      [e.incidentId, e.byUserId],
    );
    if (recipients.length === 0) return;
    const update: StatusUpdate = {
      incidentId: e.incidentId,
      incidentNumber: e.number,
      line: statusLine(e.number, e.status, e.byName ?? recipients[0]!.by_name),
    };
    const now = this.clock.now();
    await this.insert(
      em,
      recipients.map((r) => ({
        kind: 'status' as const,
        pageId: `status:${e.incidentId}:${e.status}`,
        incidentId: e.incidentId,
        userId: r.user_id,
        channel: r.type,
        destination: r.value,
        contactMethodId: r.id,
        ruleKey: 'default',
        page: update,
        dueAt: now,
      })),
      now,
    );
  }

  /** A pre-written message (a verification code) to send at once, outside rate limits and bundles. */
  async enqueueDirect<C extends Channel>(
    em: EntityManager,
    input: {
      kind: NotificationKind;
      key: string;
      userId: string;
      channel: C;
      destination: string;
      contactMethodId: string;
      message: (id: string) => MessageOf[C];
    },
  ): Promise<void> {
    const id = randomUUID();
    const now = this.clock.now();
    await this.insert(
      em,
      [
        {
          id,
          kind: input.kind,
          pageId: input.key,
          incidentId: null,
          userId: input.userId,
          channel: input.channel,
          destination: input.destination,
          contactMethodId: input.contactMethodId,
          ruleKey: 'default',
          page: {},
          message: input.message(id),
          dueAt: now,
        },
      ],
      now,
    );
  }

  /**
   * Inserts notifications (those already there for the same page, channel, destination and rule
   * are left alone) and schedules a send timer for each new one; returns the new ones.
   */
  private async insert(
    em: EntityManager,
    rows: {
      id?: string;
      kind: NotificationKind;
      pageId: string;
      incidentId: string | null;
      userId: string | null;
      channel: Channel;
      destination: string;
      contactMethodId: string | null;
      ruleKey: string;
      page: object;
      message?: object;
      dueAt: Date;
    }[],
    now: Date,
  ): Promise<NotificationRow[]> {
    if (rows.length === 0) return [];
    const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
    const inserted: NotificationRow[] = await em.query(
      `INSERT INTO notifications (id, kind, page_id, incident_id, user_id, channel, destination, contact_method_id, rule_key, status, page, message, due_at, created_at, updated_at)
       SELECT id, kind, page_id, incident_id, user_id, channel, destination, contact_method_id, rule_key, 'queued', page, message, due_at, $13, $13
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::jsonb[], $11::jsonb[], $12::timestamptz[])
         AS r(id, kind, page_id, incident_id, user_id, channel, destination, contact_method_id, rule_key, page, message, due_at)
       ON CONFLICT (page_id, channel, destination, rule_key) DO NOTHING RETURNING *`,
      [
        col((r) => r.id ?? randomUUID()),
        col((r) => r.kind),
        col((r) => r.pageId),
        col((r) => r.incidentId),
        col((r) => r.userId),
        col((r) => r.channel),
        col((r) => r.destination),
        col((r) => r.contactMethodId),
        col((r) => r.ruleKey),
        col((r) => JSON.stringify(r.page)),
        col((r) => (r.message ? JSON.stringify(r.message) : null)),
        col((r) => r.dueAt.toISOString()),
        now,
      ],
    );
    await this.timers.scheduleManyIfAbsent(
      em,
      inserted.map((n) => ({ kind: SEND, key: sendKey(n), dueAt: n.due_at, payload: { id: n.id } })),
    );
    return inserted;
  }

  /** The incident was acknowledged, resolved or snoozed: nothing still waiting for it goes out. */
  async cancelForIncident(em: EntityManager, incidentId: string): Promise<void> {
    await this.timers.cancelByPrefix(em, incidentTimerPrefix(incidentId));
    const cancelled = await queryRows<NotificationRow>(
      em,
      `UPDATE notifications SET status = 'cancelled', updated_at = $2 WHERE incident_id = $1 AND kind = 'page' AND status = 'queued' RETURNING *`,
      [incidentId, this.clock.now()],
    );
    await this.announce(em, cancelled, 'cancelled', () => ({ provider: 'none' }));
  }

  /** The user is gone: their pending pages are cancelled. */
  async cancelForUser(em: EntityManager, userId: string): Promise<void> {
    const cancelled = await queryRows<NotificationRow>(
      em,
      `UPDATE notifications SET status = 'cancelled', updated_at = $2 WHERE user_id = $1 AND status = 'queued' RETURNING *`,
      [userId, this.clock.now()],
    );
    for (const n of cancelled) await this.timers.cancel(em, sendKey(n));
    await this.announce(em, cancelled, 'cancelled', () => ({ provider: 'none' }));
  }

  /**
   * A message of this page failed (or may not have arrived): the page's next pending notification
   * goes at once instead of at its delay. If none is pending and nothing of the page reached the
   * user, their email is the last resort, so a failed page never ends in silence.
   */
  async failover(em: EntityManager, failed: NotificationRow): Promise<void> {
    if (failed.kind !== 'page') return;
    const now = this.clock.now();
    const [next] = await queryRows<NotificationRow>(
      em,
      `UPDATE notifications SET due_at = $3, updated_at = $3 WHERE id = (
         SELECT id FROM notifications WHERE page_id = $1 AND status = 'queued' AND id <> $2 AND due_at > $3
         ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *`,
      [failed.page_id, failed.id, now],
    );
    if (next) {
      await this.timers.schedule(em, SEND, sendKey(next), now, { id: next.id });
      this.logger.info({ pageId: failed.page_id, from: failed.channel, to: next.channel }, 'message failed; next contact method now');
      return;
    }
    const [reached]: unknown[] = await em.query(
      `SELECT 1 FROM notifications WHERE page_id = $1 AND status IN ('queued', 'sending', 'sent', 'delivered') LIMIT 1`,
      [failed.page_id],
    );
    if (reached || failed.channel === 'email') return;
    const [user]: { email: string }[] = await em.query('SELECT email FROM users WHERE id = $1 AND NOT deleted', [failed.user_id]);
    const email = user?.email ?? failed.page.userEmail;
    const [row] = await this.insert(
      em,
      [
        {
          kind: 'page',
          pageId: failed.page_id,
          incidentId: failed.incident_id,
          userId: failed.user_id,
          channel: 'email',
          destination: email,
          contactMethodId: null,
          ruleKey: 'failover',
          page: failed.page,
          dueAt: now,
        },
      ],
      now,
    );
    if (row) this.logger.info({ pageId: failed.page_id, from: failed.channel }, 'message failed and nothing else is pending; emailing instead');
  }

  /** notification.status-changed, for the incident's timeline. Verification codes are nobody else's business. */
  async announce(
    em: EntityManager,
    rows: NotificationRow[],
    status: EventData<'notification.status-changed'>['status'],
    detail: (n: NotificationRow) => { provider: string; providerMessageId?: string | null; error?: string | null },
  ): Promise<void> {
    const at = this.clock.now().toISOString();
    await this.outbox.publishMany(
      em,
      rows
        // Verification codes and status updates are nobody else's business.
        .filter((n) => n.kind === 'page' || n.kind === 'stakeholder')
        .map((n) => {
          const d = detail(n);
          const data: EventInput<'notification.status-changed'> = {
            notificationId: n.id,
            pageId: n.kind === 'page' ? n.page_id : null,
            incidentId: n.incident_id,
            userId: n.user_id,
            channel: n.channel,
            provider: d.provider,
            providerMessageId: d.providerMessageId ?? null,
            status,
            destination: maskDestination(n.destination),
            error: d.error ?? null,
            at,
          };
          return { type: 'notification.status-changed' as const, key: n.incident_id ?? n.id, data };
        }),
    );
  }
}
