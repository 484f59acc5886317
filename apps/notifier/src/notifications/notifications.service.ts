import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { Outbox, TimerRunner, Timers, crashPoint, errorMessage, type Timer } from '#libs/messaging';
import { LOGGER } from '#libs/platform';
import type { NotifierConfig } from '../config.js';
import { EMAIL_PROVIDER, type EmailProvider } from '../providers/provider.js';
import { emailHtml, emailSubject, emailText, maskDestination, type Page } from './content.js';
import { queryRows } from '#libs/database';

type Status = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled' | 'unknown';

interface NotificationRow {
  id: string;
  page_id: string;
  incident_id: string;
  user_id: string;
  channel: 'email';
  destination: string;
  status: Status;
  page: Page;
}

const SEND = 'notification.send';
const RECONCILE = 'notification.reconcile';
const sendKey = (n: { incident_id: string; id: string }): string => `notify:${n.incident_id}:${n.id}`;
const reconcileKey = (id: string): string => `notify-reconcile:${id}`;

/**
 * From page request to provider call, without losing or doubling a message:
 *
 * 1. page.requested → one notification row per contact method, and a durable send timer, in the
 *    consumer's transaction (a redelivered page finds the row and does nothing).
 * 2. The send timer marks the row "sending" with a deadline and schedules a reconcile timer at
 *    that deadline, and commits; only then is the provider called.
 * 3. The outcome is recorded and the reconcile timer cancelled. If the process died in between,
 *    the reconcile timer asks the provider what happened: sent, not sent (send again), or unknown
 *    (not resent: later rules and escalation steps are the cover, as in GoAlert).
 */
@Injectable()
export class NotificationsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    private readonly timerRunner: TimerRunner,
    @Inject(EMAIL_PROVIDER) private readonly email: EmailProvider,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timerRunner.register<{ id: string }>(SEND, (t, em) => this.onSendTimer(t, em));
    this.timerRunner.register<{ id: string }>(RECONCILE, (t, em) => this.onReconcileTimer(t, em));
  }

  /** A page for a user: schedule each of their notification rules. */
  async onPageRequested(em: EntityManager, page: Page): Promise<void> {
    const [user]: { email: string; deleted: boolean }[] = await em.query('SELECT email, deleted FROM users WHERE id = $1', [page.userId]);
    if (user?.deleted) {
      this.logger.warn({ userId: page.userId, incidentId: page.incidentId }, 'page for a deleted user; nothing sent');
      return;
    }
    // A user created a moment ago may be paged before their user event arrives here: use the
    // email oncall put in the page rather than drop it.
    const email = user?.email ?? page.userEmail;
    const now = this.clock.now();
    const id = randomUUID();
    const [row]: NotificationRow[] = await em.query(
      `INSERT INTO notifications (id, page_id, incident_id, user_id, channel, destination, status, page, due_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'email', $5, 'queued', $6::jsonb, $7, $7, $7)
       ON CONFLICT (page_id, channel, destination) DO NOTHING RETURNING *`,
      [id, page.pageId, page.incidentId, page.userId, email, JSON.stringify(page), now],
    );
    if (!row) return;
    await this.timers.schedule(em, SEND, sendKey(row), now, { id: row.id });
  }

  /** The incident was acknowledged or resolved: nothing still waiting for it goes out. */
  async cancelForIncident(em: EntityManager, incidentId: string): Promise<void> {
    await this.timers.cancelByPrefix(em, `notify:${incidentId}:`);
    const cancelled = await queryRows<NotificationRow>(
      em,
      `UPDATE notifications SET status = 'cancelled', updated_at = $2 WHERE incident_id = $1 AND status = 'queued' RETURNING *`,
      [incidentId, this.clock.now()],
    );
    for (const n of cancelled) await this.announce(em, n, 'cancelled', null, null);
  }

  private async onSendTimer(timer: Timer<{ id: string }>, em: EntityManager): Promise<void | (() => Promise<void>)> {
    const [n]: NotificationRow[] = await em.query('SELECT * FROM notifications WHERE id = $1 FOR UPDATE', [timer.payload.id]);
    if (!n || n.status !== 'queued') return;
    const now = this.clock.now();
    const deadline = new Date(now.getTime() + this.config.SEND_DEADLINE_SECONDS * 1000);
    await em.query(`UPDATE notifications SET status = 'sending', sending_deadline = $2, attempts = attempts + 1, updated_at = $3 WHERE id = $1`, [n.id, deadline, now]);
    await this.timers.schedule(em, RECONCILE, reconcileKey(n.id), deadline, { id: n.id });
    return () => this.deliver(n);
  }

  private async deliver(n: NotificationRow): Promise<void> {
    crashPoint('notifier.before-provider-call');
    const links = { incident: `${this.config.PUBLIC_URL}/incidents/${n.incident_id}` };
    let result: { providerMessageId: string } | undefined;
    let failure: string | undefined;
    try {
      result = await this.email.send({
        notificationId: n.id,
        to: n.destination,
        subject: emailSubject(n.page),
        text: emailText(n.page, links),
        html: emailHtml(n.page, links),
      });
    } catch (err) {
      failure = errorMessage(err);
    }
    crashPoint('notifier.after-provider-call');
    await this.db.transaction(async (em) => {
      const status: Status = result ? 'sent' : 'failed';
      const [updated] = await queryRows<NotificationRow>(
        em,
        `UPDATE notifications SET status = $2, provider = $3, provider_message_id = $4, error = $5, sent_at = $6, updated_at = $6
         WHERE id = $1 AND status = 'sending' RETURNING *`,
        [n.id, status, this.email.name, result?.providerMessageId ?? null, failure ?? null, this.clock.now()],
      );
      if (!updated) return;
      await this.timers.cancel(em, reconcileKey(n.id));
      await this.announce(em, updated, status, result?.providerMessageId ?? null, failure ?? null);
    });
    if (failure) this.logger.warn({ notificationId: n.id, err: failure }, 'email send failed');
  }

  private async onReconcileTimer(timer: Timer<{ id: string }>, em: EntityManager): Promise<void> {
    const [n]: NotificationRow[] = await em.query('SELECT * FROM notifications WHERE id = $1 FOR UPDATE', [timer.payload.id]);
    if (!n || n.status !== 'sending') return;
    const r = await this.email.reconcile(n.id);
    const now = this.clock.now();
    if (r.outcome === 'not-sent') {
      await em.query(`UPDATE notifications SET status = 'queued', updated_at = $2 WHERE id = $1`, [n.id, now]);
      await this.timers.schedule(em, SEND, sendKey(n), now, { id: n.id });
      return;
    }
    const status: Status = r.outcome === 'sent' ? 'sent' : 'unknown';
    const providerId = r.outcome === 'sent' ? r.providerMessageId : null;
    await em.query(`UPDATE notifications SET status = $2, provider = $3, provider_message_id = $4, updated_at = $5 WHERE id = $1`, [n.id, status, this.email.name, providerId, now]);
    this.logger.warn({ notificationId: n.id, outcome: r.outcome }, 'reconciled a send whose outcome was not recorded');
    await this.announce(em, n, status === 'sent' ? 'sent' : 'failed', providerId, status === 'unknown' ? 'outcome unknown after an interrupted send; not resent' : null);
  }

  private async announce(em: EntityManager, n: NotificationRow, status: 'sent' | 'failed' | 'cancelled', providerMessageId: string | null, error: string | null): Promise<void> {
    await this.outbox.publish(em, 'notification.status-changed', n.incident_id, {
      notificationId: n.id,
      pageId: n.page_id,
      incidentId: n.incident_id,
      userId: n.user_id,
      channel: n.channel,
      provider: this.email.name,
      providerMessageId,
      status,
      destination: maskDestination(n.destination),
      error,
      at: this.clock.now().toISOString(),
    });
  }
}
