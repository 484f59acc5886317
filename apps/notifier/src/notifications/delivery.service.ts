import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import { CONFIG } from '#libs/config';
import { queryRows } from '#libs/database';
import { TimerRunner, Timers, crashPoint, type Timer } from '#libs/messaging';
import { LOGGER } from '#libs/platform';
import type { NotifierConfig } from '../config.js';
import { PHONE_CHANNELS, type Channel } from '../providers/channel.js';
import { retryDelayMs } from '../providers/circuit-breaker.js';
import { ProviderError, type MessageOf, type ReconcileResult } from '../providers/provider.js';
import { ProviderRegistry } from '../providers/providers.js';
import { MessageComposer } from './composer.js';
import { RECONCILE, reconcileKey, SEND, sendKey, STATUS_RANK, type NotificationRow, type NotificationStatus } from './notification.js';
import { NotificationsService } from './notifications.service.js';
import { longestWindowMs, nextAllowedAt, type RateLimit } from './rate-limit.js';

/** What a provider's status callback says about a message, in Klaxon's words. */
export interface DeliveryReport {
  /** The notification that carried the provider call (the bundle's lead). */
  notificationId: string;
  providerMessageId: string;
  outcome: 'sent' | 'delivered' | 'undelivered' | 'failed' | 'unanswered';
  detail?: string | null;
  /** Voice: who picked up (human, machine_start, fax…). */
  answeredBy?: string | null;
}

type Outcome = { ok: true; providerMessageId: string } | { ok: false; error: ProviderError };

/** How soon a provider that could not be asked about a send is asked again (then 3 times as long each time, at most an hour). */
const RECONCILE_RETRY_BASE_MS = 15_000;

/** A notification with its incident's state as notifier knows it. */
type PendingRow = NotificationRow & { incident_status: string | null; incident_changed_at: Date | null };
const WITH_INCIDENT = `SELECT n.*, i.status AS incident_status, i.changed_at AS incident_changed_at FROM notifications n LEFT JOIN incidents i ON i.id = n.incident_id`;

/** Acknowledged, resolved or snoozed after this page was requested (a re-trigger carries a later time). */
function incidentClosed(n: PendingRow): boolean {
  return (
    n.kind === 'page' && !!n.incident_status && n.incident_status !== 'triggered' && n.incident_changed_at!.getTime() >= new Date(n.page.requestedAt).getTime()
  );
}

/**
 * From send timer to provider and back, without losing or doubling a message:
 *
 * 1. The send timer checks the message is still wanted (incident still triggered, number not
 *    opted out, daily cap), applies the contact method's rate limit (a limited message waits, and
 *    everything that piles up for the same person and channel goes as one bundle), marks the
 *    messages "sending" with a deadline and a reconcile timer, and commits.
 * 2. Only then is the provider called (through its circuit breaker), and the outcome recorded:
 *    sent; not sent (retried with backoff, then failed); refused (failed); or unknown (a timeout:
 *    the provider is asked before anything is resent). A failed message moves the page on to the
 *    user's next contact method at once.
 * 3. If the process died in between, the reconcile timer asks the provider what happened: sent,
 *    not sent (send again), or unknown (not resent; the next contact method goes at once).
 * Status callbacks (delivered, undelivered, unanswered) move a message forward, never back.
 */
@Injectable()
export class DeliveryService implements OnModuleInit {
  private readonly limits: Record<Channel, RateLimit[]>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly timers: Timers,
    private readonly timerRunner: TimerRunner,
    private readonly providers: ProviderRegistry,
    private readonly composer: MessageComposer,
    private readonly notifications: NotificationsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: NotifierConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.limits = { sms: config.RATE_LIMIT_SMS, voice: config.RATE_LIMIT_VOICE, push: config.RATE_LIMIT_PUSH, email: config.RATE_LIMIT_EMAIL };
  }

  onModuleInit(): void {
    this.timerRunner.register<{ id: string }>(SEND, (t, em) => this.onSendTimer(t, em));
    this.timerRunner.register<{ id: string }>(RECONCILE, (t, em) => this.onReconcileTimer(t, em));
  }

  // ---- 1. the send timer ----------------------------------------------------------------------

  private async onSendTimer(timer: Timer<{ id: string }>, em: EntityManager): Promise<void | (() => Promise<void>)> {
    const [peek]: { channel: string; destination: string }[] = await em.query('SELECT channel, destination FROM notifications WHERE id = $1', [
      timer.payload.id,
    ]);
    if (!peek) return;
    // One send decision at a time per destination, taken before any row lock: the first to decide
    // bundles everything pending and the others then find their rows already on their way (or
    // see its send in the rate limit), instead of both going out at once.
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`send:${peek.channel}:${peek.destination}`]);
    const [n]: PendingRow[] = await em.query(`${WITH_INCIDENT} WHERE n.id = $1 FOR UPDATE OF n`, [timer.payload.id]);
    if (!n || n.status !== 'queued') return;
    const now = this.clock.now();
    if (n.kind === 'verification' || n.kind === 'stakeholder') {
      // Written in advance, sent at once: never rate limited, never bundled.
      const refusal = await this.refusal(em, n, now);
      if (refusal) return this.fail(em, [n], refusal, now);
      const openUntil = this.providers.openUntil(n.channel);
      if (openUntil) return this.postpone(em, n, openUntil, now);
      return this.begin(em, [n], n.message!, now);
    }
    if (incidentClosed(n)) {
      await this.cancel(em, [n], now);
      return;
    }
    const refusal = await this.refusal(em, n, now);
    if (refusal) return this.fail(em, [n], refusal, now);

    const allowedAt = this.providers.openUntil(n.channel) ?? (await this.rateLimitedUntil(em, n, now));
    if (allowedAt) {
      // Wait for the limit (or for the provider to recover); whatever else piles up for this person
      // and channel meanwhile goes with it.
      return this.postpone(em, n, allowedAt, now);
    }
    // Pages and status updates each bundle with their own kind, and count against their own limit.
    const others: PendingRow[] = await em.query(
      `${WITH_INCIDENT} WHERE n.channel = $1 AND n.destination = $2 AND n.user_id = $3 AND n.kind = $6 AND n.status = 'queued'
         AND n.id <> $4 AND n.due_at <= $5 ORDER BY n.due_at, n.id FOR UPDATE OF n SKIP LOCKED`,
      [n.channel, n.destination, n.user_id, n.id, now, n.kind],
    );
    const closed = others.filter(incidentClosed);
    if (closed.length) await this.cancel(em, closed, now);
    const members: NotificationRow[] = [n, ...others.filter((o) => !incidentClosed(o))];
    const message = await this.composer.compose(em, members, now);
    return this.begin(em, members, message, now);
  }

  private async postpone(em: EntityManager, n: NotificationRow, until: Date, now: Date): Promise<void> {
    await em.query('UPDATE notifications SET due_at = $2, updated_at = $3 WHERE id = $1', [n.id, until, now]);
    await this.timers.schedule(em, SEND, sendKey(n), until, { id: n.id });
  }

  /** Marks the messages sending (one provider call for all of them) and returns the call, to run after commit. */
  private async begin(em: EntityManager, members: NotificationRow[], message: MessageOf[Channel], now: Date): Promise<() => Promise<void>> {
    const lead = members[0]!;
    const deadline = new Date(now.getTime() + this.config.SEND_DEADLINE_SECONDS * 1000);
    await em.query(
      `UPDATE notifications SET status = 'sending', bundle_id = $2, started_at = $3, sending_deadline = $4, attempts = attempts + 1, error = NULL, updated_at = $3,
         message = CASE WHEN id = $2 THEN $5::jsonb ELSE message END
       WHERE id = ANY($1::uuid[])`,
      [members.map((m) => m.id), lead.id, now, deadline, JSON.stringify(message)],
    );
    await this.timers.cancelUnclaimed(
      em,
      members.slice(1).map((m) => sendKey(m)),
    );
    await this.timers.schedule(em, RECONCILE, reconcileKey(lead.id), deadline, { id: lead.id });
    if (members.length > 1) this.logger.info({ channel: lead.channel, notifications: members.length }, 'bundled pending notifications into one message');
    return () => this.deliver(lead.id, lead.channel, message);
  }

  // ---- 2. the provider call and its outcome --------------------------------------------------

  private async deliver(leadId: string, channel: Channel, message: MessageOf[Channel]): Promise<void> {
    crashPoint('notifier.before-provider-call');
    let outcome: Outcome;
    try {
      outcome = { ok: true, ...(await this.providers.send(channel, message)) };
    } catch (err) {
      outcome = { ok: false, error: err as ProviderError };
    }
    crashPoint('notifier.after-provider-call');
    await this.db.transaction((em) => this.recordOutcome(em, leadId, outcome));
  }

  private async recordOutcome(em: EntityManager, leadId: string, outcome: Outcome): Promise<void> {
    const members = await this.lockBundle(em, leadId, ['sending']);
    if (members.length === 0) return; // a status callback or the reconciler got there first
    const now = this.clock.now();
    const provider = this.providers.get(members[0]!.channel).name;
    if (outcome.ok) return this.markSent(em, members, provider, outcome.providerMessageId, now);
    const { error } = outcome;
    this.logger.warn({ notificationId: leadId, channel: members[0]!.channel, kind: error.kind, err: error.message }, 'provider call failed');
    await this.timers.cancel(em, reconcileKey(leadId));
    if (error.kind === 'permanent') {
      if (error.invalidDestination || error.optedOut) await this.forgetDestination(em, members[0]!, error.optedOut);
      return this.fail(em, members, error.message, now);
    }
    if (error.circuitOpen) {
      // Not tried at all (another call is the provider's trial): not an attempt; again once it is decided.
      const at = this.providers.openUntil(members[0]!.channel) ?? new Date(now.getTime() + 1000);
      return this.requeue(em, members, error.message, at, now, { uncount: true });
    }
    if (error.kind === 'not-sent') return this.retryOrFail(em, members, error.message, now);
    // It may have gone out: ask the provider (after a backoff) before anything is resent.
    const at = new Date(now.getTime() + retryDelayMs(members[0]!.attempts, this.config.SEND_RETRY_BASE_SECONDS * 1000));
    await em.query(`UPDATE notifications SET error = $2, updated_at = $3 WHERE bundle_id = $1 AND status = 'sending'`, [leadId, error.message, now]);
    await this.timers.schedule(em, RECONCILE, reconcileKey(leadId), at, { id: leadId });
  }

  private async markSent(em: EntityManager, members: NotificationRow[], provider: string, providerMessageId: string, now: Date): Promise<void> {
    const lead = members[0]!;
    await em.query(
      `UPDATE notifications SET status = 'sent', provider = $2, provider_message_id = $3, error = NULL, sent_at = $4, updated_at = $4 WHERE id = ANY($1::uuid[])`,
      [members.map((m) => m.id), provider, providerMessageId, now],
    );
    // A verification code is not kept once sent.
    if (lead.kind === 'verification') await em.query(`UPDATE notifications SET message = NULL WHERE id = $1`, [lead.id]);
    await this.timers.cancel(em, reconcileKey(lead.bundle_id ?? lead.id));
    await this.notifications.announce(em, members, 'sent', () => ({ provider, providerMessageId }));
  }

  /**
   * Sends again later, or gives up (failed, and the page moves on). A call nobody answered is
   * retried VOICE_MAX_ATTEMPTS times, VOICE_RETRY_SECONDS apart; anything else SEND_MAX_ATTEMPTS
   * times with growing backoff (or at once after a crash, `delayMs` 0).
   */
  private async retryOrFail(
    em: EntityManager,
    members: NotificationRow[],
    error: string,
    now: Date,
    opts: { delayMs?: number; unanswered?: boolean } = {},
  ): Promise<void> {
    const attempts = Math.max(...members.map((m) => m.attempts));
    const max = opts.unanswered ? this.config.VOICE_MAX_ATTEMPTS : this.config.SEND_MAX_ATTEMPTS;
    if (attempts >= max) return this.fail(em, members, `${error} (gave up after ${attempts} attempts)`, now, opts.unanswered ? 'undelivered' : 'failed');
    const delay = opts.unanswered
      ? this.config.VOICE_RETRY_SECONDS * 1000
      : (opts.delayMs ?? retryDelayMs(attempts, this.config.SEND_RETRY_BASE_SECONDS * 1000));
    return this.requeue(em, members, error, new Date(now.getTime() + delay), now);
  }

  private async requeue(em: EntityManager, members: NotificationRow[], error: string, at: Date, now: Date, opts: { uncount?: boolean } = {}): Promise<void> {
    await em.query(
      `UPDATE notifications SET status = 'queued', bundle_id = NULL, started_at = NULL, sending_deadline = NULL, error = $2, due_at = $3, updated_at = $4,
         attempts = attempts - $5 WHERE id = ANY($1::uuid[])`,
      [members.map((m) => m.id), error, at, now, opts.uncount ? 1 : 0],
    );
    for (const m of members) await this.timers.schedule(em, SEND, sendKey(m), at, { id: m.id });
  }

  private async fail(em: EntityManager, members: NotificationRow[], error: string, now: Date, status: 'failed' | 'undelivered' = 'failed'): Promise<void> {
    await em.query(`UPDATE notifications SET status = $2, error = $3, updated_at = $4 WHERE id = ANY($1::uuid[])`, [
      members.map((m) => m.id),
      status,
      error,
      now,
    ]);
    await this.notifications.announce(em, members, status, (m) => ({
      provider: m.provider ?? this.providers.get(m.channel).name,
      providerMessageId: m.provider_message_id,
      error,
    }));
    for (const m of members) await this.notifications.failover(em, m);
  }

  private async cancel(em: EntityManager, members: NotificationRow[], now: Date): Promise<void> {
    await em.query(`UPDATE notifications SET status = 'cancelled', updated_at = $2 WHERE id = ANY($1::uuid[])`, [members.map((m) => m.id), now]);
    await this.timers.cancelUnclaimed(
      em,
      members.map((m) => sendKey(m)),
    );
    await this.notifications.announce(em, members, 'cancelled', () => ({ provider: 'none' }));
  }

  // ---- 3. after a crash: reconcile -----------------------------------------------------------

  /**
   * Asks the provider what became of a send whose outcome was not recorded. The provider is asked
   * after this transaction commits, holding no row lock (it may take seconds, or time out); the
   * timer is first moved on, so if the process dies meanwhile or the provider cannot be asked, it
   * comes back and asks again.
   */
  private async onReconcileTimer(timer: Timer<{ id: string; asked?: number }>, em: EntityManager): Promise<void | (() => Promise<void>)> {
    const [lead] = await queryRows<NotificationRow>(em, `SELECT * FROM notifications WHERE id = $1 AND status = 'sending'`, [timer.payload.id]);
    if (!lead) return;
    const asked = (timer.payload.asked ?? 0) + 1;
    const now = this.clock.now();
    await this.timers.schedule(em, RECONCILE, reconcileKey(lead.id), new Date(now.getTime() + retryDelayMs(asked, RECONCILE_RETRY_BASE_MS)), {
      id: lead.id,
      asked,
    });
    const since = lead.started_at ?? now;
    const others = await queryRows<{ provider_message_id: string }>(
      em,
      `SELECT provider_message_id FROM notifications
       WHERE channel = $1 AND destination = $2 AND provider_message_id IS NOT NULL AND bundle_id IS DISTINCT FROM $3 AND coalesce(started_at, created_at) >= $4`,
      [lead.channel, lead.destination, lead.id, new Date(since.getTime() - 3_600_000)],
    );
    const query = { notificationId: lead.id, message: lead.message as never, startedAt: since, otherProviderIds: others.map((o) => o.provider_message_id) };
    return async () => {
      const r = await this.providers.reconcile(lead.channel, query);
      this.logger.warn({ notificationId: lead.id, channel: lead.channel, outcome: r.outcome }, 'reconciled a send whose outcome was not recorded');
      await this.db.transaction((tx) => this.applyReconciled(tx, lead.id, r));
    };
  }

  private async applyReconciled(em: EntityManager, leadId: string, r: ReconcileResult): Promise<void> {
    const members = await this.lockBundle(em, leadId, ['sending']);
    if (!members.some((m) => m.id === leadId)) return; // a status callback got there first
    const now = this.clock.now();
    await this.timers.cancel(em, reconcileKey(leadId));
    const lead = members.find((m) => m.id === leadId)!;
    if (r.outcome === 'sent') return this.markSent(em, members, this.providers.get(lead.channel).name, r.providerMessageId, now);
    if (r.outcome === 'not-sent') return this.retryOrFail(em, members, lead.error ?? 'interrupted before the provider was called', now, { delayMs: 0 });
    await em.query(`UPDATE notifications SET status = 'unknown', updated_at = $2 WHERE id = ANY($1::uuid[])`, [members.map((m) => m.id), now]);
    await this.notifications.announce(em, members, 'failed', (m) => ({
      provider: this.providers.get(m.channel).name,
      error: 'outcome unknown after an interrupted send; not resent',
    }));
    for (const m of members) await this.notifications.failover(em, m);
  }

  // ---- status callbacks ------------------------------------------------------------------------

  /** A provider's status callback. Idempotent; moves messages forward only; failures fail over. */
  async onDeliveryReport(em: EntityManager, report: DeliveryReport): Promise<void> {
    const members = (await this.lockBundle(em, report.notificationId, ['sending', 'sent', 'delivered'])).filter(
      (m) => !m.provider_message_id || m.provider_message_id === report.providerMessageId,
    );
    if (members.length === 0) return;
    const now = this.clock.now();
    const lead = members[0]!;
    const provider = this.providers.get(lead.channel).name;
    const ids = members.map((m) => m.id);
    if (report.answeredBy) await em.query('UPDATE notifications SET answered_by = $2 WHERE id = ANY($1::uuid[])', [ids, report.answeredBy]);
    if (report.outcome === 'unanswered') {
      await this.timers.cancel(em, reconcileKey(report.notificationId));
      return this.retryOrFail(em, members, report.detail ?? 'not answered', now, { unanswered: true });
    }
    const next: NotificationStatus = report.outcome;
    const moving = members.filter((m) => STATUS_RANK[next] > STATUS_RANK[m.status] || (m.status === 'sending' && next === 'sent'));
    if (moving.length === 0) return;
    const machine = report.answeredBy && /^machine|fax/.test(report.answeredBy) ? `answered by ${report.answeredBy.replace(/_/g, ' ')}` : null;
    const detail = report.detail ?? machine;
    await em.query(
      `UPDATE notifications SET status = $2, provider = $3, provider_message_id = $4, error = $5, sent_at = coalesce(sent_at, $6), updated_at = $6 WHERE id = ANY($1::uuid[])`,
      [moving.map((m) => m.id), next, provider, report.providerMessageId, detail, now],
    );
    await this.timers.cancel(em, reconcileKey(report.notificationId));
    await this.notifications.announce(em, moving, next, () => ({ provider, providerMessageId: report.providerMessageId, error: detail }));
    if (next === 'failed' || next === 'undelivered') for (const m of moving) await this.notifications.failover(em, m);
  }

  // ---- checks ----------------------------------------------------------------------------------

  private async lockBundle(em: EntityManager, leadId: string, statuses: NotificationStatus[]): Promise<NotificationRow[]> {
    const rows: NotificationRow[] = await em.query(
      `SELECT * FROM notifications WHERE bundle_id = $1 AND status = ANY($2::text[]) ORDER BY (id = $1) DESC, due_at FOR UPDATE`,
      [leadId, statuses],
    );
    return rows;
  }

  /** Why this message must not go at all (it fails over instead), or null. */
  private async refusal(em: EntityManager, n: NotificationRow, now: Date): Promise<string | null> {
    if (n.contact_method_id) {
      const [cm]: { verified: boolean }[] = await em.query('SELECT verified_at IS NOT NULL AS verified FROM contact_methods WHERE id = $1', [
        n.contact_method_id,
      ]);
      if (!cm) return 'the contact method was removed';
      if (!cm.verified && n.kind !== 'verification') return 'the contact method is not verified';
    }
    if (n.channel === 'sms') {
      const [out]: unknown[] = await em.query('SELECT 1 FROM sms_opt_outs WHERE number = $1', [n.destination]);
      if (out) return 'this number replied STOP; reply START to receive SMS again';
    }
    if (n.kind === 'page' && PHONE_CHANNELS.includes(n.channel)) {
      const [{ count } = { count: 0 }]: { count: number }[] = await em.query(
        `SELECT count(*)::int AS count FROM notifications WHERE user_id = $1 AND kind = 'page' AND id = bundle_id AND channel = ANY($2::text[]) AND started_at > $3`,
        [n.user_id, PHONE_CHANNELS, new Date(now.getTime() - 86_400_000)],
      );
      if (count >= this.config.USER_DAILY_PHONE_LIMIT) return `daily limit of ${this.config.USER_DAILY_PHONE_LIMIT} SMS and calls for this user reached`;
    }
    return null;
  }

  private async rateLimitedUntil(em: EntityManager, n: NotificationRow, now: Date): Promise<Date | null> {
    const limits = n.kind === 'status' ? this.config.RATE_LIMIT_STATUS : this.limits[n.channel];
    if (limits.length === 0) return null;
    const recent: { started_at: Date }[] = await em.query(
      `SELECT started_at FROM notifications WHERE channel = $1 AND destination = $2 AND kind = $4 AND id = bundle_id AND started_at > $3`,
      [n.channel, n.destination, new Date(now.getTime() - longestWindowMs(limits)), n.kind],
    );
    return nextAllowedAt(
      recent.map((r) => r.started_at),
      limits,
      now,
    );
  }

  /**
   * The provider says this destination is gone for good: a push device that unregistered is
   * removed; a number that opted out with the carrier (STOP) is remembered as opted out.
   */
  private async forgetDestination(em: EntityManager, n: NotificationRow, optedOut: boolean): Promise<void> {
    if (n.channel === 'sms' && optedOut) {
      await em.query('INSERT INTO sms_opt_outs (number, opted_out_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [n.destination, this.clock.now()]);
    }
    if (n.channel === 'push' && n.contact_method_id) {
      await em.query('DELETE FROM contact_methods WHERE id = $1', [n.contact_method_id]);
      this.logger.info({ contactMethodId: n.contact_method_id }, 'push device no longer registered; removed');
    }
  }

  /** Rows of one provider call, for the webhooks. */
  async bundle(em: EntityManager, leadId: string): Promise<NotificationRow[]> {
    return queryRows<NotificationRow>(em, `SELECT * FROM notifications WHERE bundle_id = $1 ORDER BY (id = $1) DESC, due_at`, [leadId]);
  }
}
