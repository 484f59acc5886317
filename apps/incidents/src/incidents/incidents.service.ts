import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { urgencyAt, type EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { DailyJobs, Outbox, TimerRunner, Timers, type Timer } from '#libs/messaging';
import { ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError } from '#libs/platform';
import { Directory, type ServiceSettings } from '../directory/directory.service.js';
import { SlaService } from '../sla/sla.service.js';
import { decideGrouping, groupKeyFor } from './grouping.js';
import { Incident, type Actor } from './incident.entity.js';
import * as lifecycle from './lifecycle.js';
import { higherPriority, priorityForSeverity, type Priority, type Transition } from './lifecycle.js';
import { Timeline } from '../timeline/timeline.service.js';

const MONITOR: Actor = { userId: null, name: null, source: 'monitor' };
const SYSTEM: Actor = { userId: null, name: null, source: 'system' };
const TIMEOUT: Actor = { userId: null, name: null, source: 'timeout' };

const ACK_TIMEOUT = 'incident.ack-timeout';
const SNOOZE_END = 'incident.snooze-end';
const AUTO_RESOLVE = 'incident.auto-resolve';
const ackTimeoutKey = (id: string): string => `ack-timeout:${id}`;
const snoozeKey = (id: string): string => `snooze:${id}`;
/** Reassignments of one incident in an hour (each pages the new assignees). */
export const MAX_REASSIGNS_PER_HOUR = 10;
const autoResolveKey = (id: string): string => `auto-resolve:${id}`;

/** Hooks other capabilities hang on the lifecycle (post-incident reviews on resolution). */
export interface ResolutionHook {
  onResolved(em: EntityManager, incident: Incident, by: Actor): Promise<void>;
}

export interface CommandOptions {
  /** From events: a command that no longer applies (a second acknowledgement) is a silent no-op instead of a 409. */
  quiet?: boolean;
}

/**
 * The incident lifecycle: opening incidents from alerts (with grouping), acknowledging, resolving,
 * snoozing, escalating, reassigning, priority and major changes, and the durable timers behind
 * acknowledgement timeouts, snooze expiry and inactivity auto-resolve. Every command locks the
 * incident row first (FOR UPDATE), changes it, appends to the timeline and publishes its event
 * through the outbox, all in the caller's transaction.
 */
@Injectable()
export class IncidentsService implements OnModuleInit {
  private readonly hooks: ResolutionHook[] = [];

  constructor(
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    private readonly timerRunner: TimerRunner,
    private readonly directory: Directory,
    private readonly timeline: Timeline,
    private readonly slas: SlaService,
    private readonly daily: DailyJobs,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    this.timerRunner.register<{ incidentId: string; acknowledgedAt: string }>(ACK_TIMEOUT, (t, em) => this.onAckTimeout(t, em));
    this.timerRunner.register<{ incidentId: string }>(SNOOZE_END, (t, em) => this.onSnoozeEnd(t, em));
    this.timerRunner.register<{ incidentId: string }>(AUTO_RESOLVE, (t, em) => this.onAutoResolveTimer(t, em));
    // Groups whose window closed long ago are forgotten daily (content keys can be many): the next
    // alert of such a group would open a new incident anyway, and simply recreates the row.
    await this.daily.schedule({
      kind: 'incident.prune-groups',
      key: 'incidents:prune-groups',
      run: async (em, now) => {
        await em.query('DELETE FROM incident_groups WHERE window_ends_at < $1', [new Date(now.getTime() - 86400_000)]);
      },
    });
  }

  addResolutionHook(hook: ResolutionHook): void {
    this.hooks.push(hook);
  }

  // ---- from alerts ------------------------------------------------------------------------------

  /**
   * A new alert opens an incident on its service, or joins the open incident of its group. The
   * decision is taken while holding the group's row lock (an upsert), and the joined incident's row
   * lock: two alerts of one group handled at once on different partitions wait for each other, and
   * an alert never joins an incident that a concurrent transaction has just resolved.
   */
  async onAlertTriggered(em: EntityManager, alert: EventData<'alert.triggered'>): Promise<void> {
    const [known] = await queryRows<{ incident_id: string | null }>(em, 'SELECT incident_id FROM incident_alerts WHERE alert_id = $1', [alert.alertId]);
    // Known: a redelivery, unless it was held by a maintenance window that has ended and it still fires (released).
    if (known && (known.incident_id !== null || alert.inMaintenance)) return;
    if (alert.inMaintenance) {
      await this.recordAlert(em, alert, null);
      return;
    }
    const svc = await this.directory.service(em, alert.serviceId);
    const groupKey = groupKeyFor(svc.grouping, alert);
    if (groupKey === null || svc.grouping.mode === 'none') {
      await this.open(em, alert, svc, null);
      return;
    }
    const [group] = await queryRows<{ incident_id: string | null; window_ends_at: Date | null; hard_ends_at: Date | null }>(
      em,
      `INSERT INTO incident_groups (service_id, group_key) VALUES ($1, $2)
       ON CONFLICT (service_id, group_key) DO UPDATE SET group_key = EXCLUDED.group_key
       RETURNING incident_id, window_ends_at, hard_ends_at`,
      [alert.serviceId, groupKey],
    );
    let current: Incident | undefined;
    if (group?.incident_id) current = (await em.findOne(Incident, { where: { id: group.incident_id }, lock: { mode: 'pessimistic_write' } })) ?? undefined;
    const decision = decideGrouping(
      svc.grouping,
      current && group?.window_ends_at && group.hard_ends_at
        ? {
            incidentId: current.id,
            incidentOpen: current.status !== 'resolved',
            windowEndsAt: new Date(group.window_ends_at),
            hardEndsAt: new Date(group.hard_ends_at),
          }
        : undefined,
      new Date(alert.triggeredAt),
    );
    if (decision.action === 'join') {
      await this.join(em, current!, alert, svc);
      await em.query('UPDATE incident_groups SET window_ends_at = $3 WHERE service_id = $1 AND group_key = $2', [
        alert.serviceId,
        groupKey,
        decision.windowEndsAt,
      ]);
      return;
    }
    const incidentId = await this.open(em, alert, svc, groupKey);
    await em.query('UPDATE incident_groups SET incident_id = $3, window_ends_at = $4, hard_ends_at = $5 WHERE service_id = $1 AND group_key = $2', [
      alert.serviceId,
      groupKey,
      incidentId,
      decision.windowEndsAt,
      decision.hardEndsAt,
    ]);
  }

  private async open(em: EntityManager, alert: EventData<'alert.triggered'>, svc: ServiceSettings, groupKey: string | null): Promise<string> {
    const now = this.clock.now();
    const id = randomUUID();
    const priority = priorityForSeverity(alert.severity);
    const urgency = urgencyAt(svc.urgencyRule, now);
    const [row]: { number: number }[] = await em.query(
      `INSERT INTO incidents (id, number, service_id, team_id, title, status, priority, urgency, alert_count, alert_events, group_key, created_at, updated_at, last_activity_at)
       VALUES ($1, nextval('incident_number_seq'), $2, $3, $4, 'triggered', $5, $6, 1, 1, $7, $8, $8, $8) RETURNING number`,
      [id, alert.serviceId, svc.teamId, alert.summary, priority, urgency, groupKey, now],
    );
    const number = row!.number;
    await this.recordAlert(em, alert, id);
    await this.timeline.addMany(em, id, [
      { kind: 'incident.triggered', details: { reason: 'new', priority, urgency }, actor: MONITOR },
      { kind: 'alert.joined', details: { alertId: alert.alertId, summary: alert.summary, dedupKey: alert.dedupKey, severity: alert.severity }, actor: MONITOR },
    ]);
    await this.slas.start(em, { id, number, serviceId: alert.serviceId, priority }, now);
    await this.scheduleAutoResolve(em, id, svc, now);
    await this.outbox.publish(em, 'incident.triggered', id, {
      incidentId: id,
      number,
      serviceId: alert.serviceId,
      title: alert.summary,
      priority,
      urgency,
      alertId: alert.alertId,
      triggeredAt: now.toISOString(),
      reason: 'new',
    });
    return id;
  }

  /** An alert joins an open incident: no new page; a more severe alert raises a priority nobody set by hand. */
  private async join(em: EntityManager, incident: Incident, alert: EventData<'alert.triggered'>, svc: ServiceSettings): Promise<void> {
    const now = this.clock.now();
    await this.recordAlert(em, alert, incident.id);
    await em.query(
      'UPDATE incidents SET alert_count = alert_count + 1, alert_events = alert_events + 1, updated_at = $2, last_activity_at = $2 WHERE id = $1',
      [incident.id, now],
    );
    await this.timeline.add(
      em,
      incident.id,
      'alert.joined',
      { alertId: alert.alertId, summary: alert.summary, dedupKey: alert.dedupKey, severity: alert.severity },
      MONITOR,
    );
    const alertPriority = priorityForSeverity(alert.severity);
    if (incident.prioritySource === 'alert' && higherPriority(alertPriority, incident.priority)) {
      await this.applyPriority(em, incident, alertPriority, MONITOR);
    }
    await this.scheduleAutoResolve(em, incident.id, svc, now);
  }

  /** The monitoring tool acknowledged: the incident is acknowledged too (PagerDuty semantics). */
  async onAlertAcknowledged(em: EntityManager, alert: EventData<'alert.acknowledged'>): Promise<void> {
    const [link]: { incident_id: string | null }[] = await em.query('SELECT incident_id FROM incident_alerts WHERE alert_id = $1', [alert.alertId]);
    if (!link?.incident_id) return;
    const by = alert.by ?? MONITOR;
    await this.acknowledge(em, link.incident_id, by, { quiet: true });
    if (alert.note) await this.timeline.add(em, link.incident_id, 'note', { text: alert.note }, by);
  }

  /**
   * A repeat of an open alert (reported coalesced, with the alert's count so far): the incident
   * shows how often its alerts repeated, and stays active (the inactivity timeout starts again).
   */
  async onAlertDeduplicated(em: EntityManager, alert: EventData<'alert.deduplicated'>): Promise<void> {
    const [link] = await queryRows<{ incident_id: string | null; added: number }>(
      em,
      `WITH before AS (SELECT alert_id, count FROM incident_alerts WHERE alert_id = $1 FOR UPDATE)
       UPDATE incident_alerts a SET count = greatest(a.count, $2), last_seen_at = greatest(a.last_seen_at, $3)
       FROM before b WHERE a.alert_id = b.alert_id
       RETURNING a.incident_id, greatest($2 - b.count, 0)::int AS added`,
      [alert.alertId, alert.count, alert.lastSeenAt],
    );
    if (!link?.incident_id) return;
    const incident = await this.lock(em, link.incident_id);
    if (link.added > 0) await em.query('UPDATE incidents SET alert_events = alert_events + $2 WHERE id = $1', [incident.id, link.added]);
    if (incident.status !== 'resolved') await this.touch(em, incident);
  }

  /** The monitoring tool resolved an alert; when all of an incident's alerts are resolved, so is the incident (if the service says so). */
  async onAlertResolved(em: EntityManager, alert: EventData<'alert.resolved'>): Promise<void> {
    const [link] = await queryRows<{ incident_id: string | null }>(
      em,
      `UPDATE incident_alerts SET status = 'resolved', resolved_at = $2 WHERE alert_id = $1 AND status <> 'resolved' RETURNING incident_id`,
      [alert.alertId, alert.resolvedAt],
    );
    if (!link?.incident_id) return;
    const incidentId = link.incident_id;
    const incident = await this.lock(em, incidentId);
    // A person who resolved the alert is named as the directory knows them; otherwise the monitoring tool did.
    const by = alert.by?.userId ? await this.directory.actor(em, alert.by.userId, alert.by.source) : (alert.by ?? MONITOR);
    await this.timeline.add(
      em,
      incidentId,
      'alert.resolved',
      { alertId: alert.alertId, dedupKey: alert.dedupKey, ...(alert.note ? { note: alert.note } : {}) },
      by,
    );
    if (incident.status === 'resolved') return;
    const svc = await this.directory.service(em, incident.serviceId);
    if (!svc.autoResolveOnAlertResolve) return;
    const [open]: { n: number }[] = await em.query(`SELECT count(*)::int AS n FROM incident_alerts WHERE incident_id = $1 AND status <> 'resolved'`, [
      incidentId,
    ]);
    if (open!.n === 0) await this.resolve(em, incidentId, by, { quiet: true, reason: 'all alerts resolved' });
  }

  // ---- commands ---------------------------------------------------------------------------------

  /**
   * Acknowledges an incident. From the API a second acknowledgement is a 409 naming who did it;
   * from events (`quiet`) it is a no-op, so a duplicate from two channels is recorded once.
   */
  async acknowledge(em: EntityManager, incidentId: string, by: Actor, opts: CommandOptions = {}): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    if (!this.allowed(incident, lifecycle.acknowledge(incident.status), opts)) return incident;
    const now = this.clock.now();
    await this.markAcknowledged(em, incident, by, now);
    const svc = await this.directory.service(em, incident.serviceId);
    if (svc.ackTimeoutSeconds) {
      await this.timers.schedule(em, ACK_TIMEOUT, ackTimeoutKey(incidentId), new Date(now.getTime() + svc.ackTimeoutSeconds * 1000), {
        incidentId,
        acknowledgedAt: now.toISOString(),
      });
    }
    await this.touch(em, incident, svc);
    return this.reload(em, incidentId);
  }

  private async markAcknowledged(em: EntityManager, incident: Incident, by: Actor, now: Date): Promise<void> {
    await em.query(
      `UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3::jsonb,
         first_acknowledged_at = coalesce(first_acknowledged_at, $2), updated_at = $2 WHERE id = $1`,
      [incident.id, now, JSON.stringify(by)],
    );
    await this.timeline.add(em, incident.id, 'incident.acknowledged', {}, by);
    await this.slas.stop(em, incident, ['acknowledge'], now);
    await this.outbox.publish(em, 'incident.acknowledged', incident.id, { ...this.ref(incident), by, acknowledgedAt: now.toISOString() });
  }

  async resolve(em: EntityManager, incidentId: string, by: Actor, opts: CommandOptions & { reason?: string } = {}): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    if (!this.allowed(incident, lifecycle.resolve(incident.status), opts)) return incident;
    const now = this.clock.now();
    await em.query(
      `UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3::jsonb, snoozed_until = NULL, updated_at = $2, last_activity_at = $2 WHERE id = $1`,
      [incidentId, now, JSON.stringify(by)],
    );
    for (const key of [ackTimeoutKey(incidentId), snoozeKey(incidentId), autoResolveKey(incidentId)]) await this.timers.cancel(em, key);
    await this.slas.stop(em, incident, ['acknowledge', 'resolve'], now);
    await this.timeline.add(em, incidentId, 'incident.resolved', opts.reason ? { reason: opts.reason } : {}, by);
    // The state rule: an incident resolved anywhere resolves its open alerts (alert-ingest frees their dedup keys).
    const freed = await queryRows<{ alert_id: string }>(
      em,
      `UPDATE incident_alerts SET status = 'resolved', resolved_at = $2 WHERE incident_id = $1 AND status <> 'resolved' RETURNING alert_id`,
      [incidentId, now],
    );
    await this.outbox.publish(em, 'incident.resolved', incidentId, {
      ...this.ref(incident),
      by,
      resolvedAt: now.toISOString(),
      alertIds: freed.map((r) => r.alert_id),
    });
    const resolved = await this.reload(em, incidentId);
    for (const hook of this.hooks) await hook.onResolved(em, resolved, by);
    return resolved;
  }

  /** A responder withdraws an acknowledgement: triggered again, escalation starts over. */
  async unacknowledge(em: EntityManager, incidentId: string, by: Actor): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    this.allowed(incident, lifecycle.unacknowledge(incident.status));
    await this.retrigger(em, incident, 'reopened', by);
    return this.reload(em, incidentId);
  }

  /**
   * Snoozes until a time: acknowledged meanwhile (a triggered incident is acknowledged first),
   * notifications and escalation pause, SLA clocks pause; at the end the incident triggers again.
   */
  async snooze(em: EntityManager, incidentId: string, by: Actor, end: Date | { minutes: number }): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    this.allowed(incident, lifecycle.snooze(incident.status));
    const now = this.clock.now();
    const until = end instanceof Date ? end : new Date(now.getTime() + end.minutes * 60_000);
    if (until.getTime() <= now.getTime()) throw new InvalidInputError('A snooze must end in the future');
    if (incident.status === 'triggered') await this.markAcknowledged(em, incident, by, now);
    await em.query('UPDATE incidents SET snoozed_until = $2, updated_at = $3 WHERE id = $1', [incidentId, until, now]);
    await this.timers.cancel(em, ackTimeoutKey(incidentId));
    await this.timers.schedule(em, SNOOZE_END, snoozeKey(incidentId), until, { incidentId });
    await this.slas.pause(em, incident, now);
    await this.timeline.add(em, incidentId, 'incident.snoozed', { until: until.toISOString() }, by);
    await this.outbox.publish(em, 'incident.snoozed', incidentId, { ...this.ref(incident), by, snoozedUntil: until.toISOString() });
    await this.touch(em, incident);
    return this.reload(em, incidentId);
  }

  /**
   * Escalates by hand to the next level of the escalation policy (oncall moves on). An
   * acknowledged incident goes back to triggered: its acknowledger handed it on.
   */
  async escalate(em: EntityManager, incidentId: string, by: Actor, opts: CommandOptions = {}): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    if (!this.allowed(incident, lifecycle.requireOpen(incident.status), opts)) return incident;
    const now = this.clock.now();
    if (incident.status === 'acknowledged') await this.unmarkAcknowledged(em, incident, by, now, true);
    await this.timeline.add(em, incidentId, 'incident.escalate-requested', { fromLevel: incident.escalationLevel }, by);
    await this.outbox.publish(em, 'incident.escalate-requested', incidentId, { ...this.ref(incident), by, requestedAt: now.toISOString() });
    await this.touch(em, incident);
    return this.reload(em, incidentId);
  }

  /** Reassigns to chosen users, who are paged (as in PagerDuty, the incident is triggered again for them). */
  async reassign(em: EntityManager, incidentId: string, by: Actor, userIds: string[]): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    this.allowed(incident, lifecycle.requireOpen(incident.status));
    const unique = [...new Set(userIds)];
    const people = await this.directory.people(em, unique);
    const unknown = unique.filter((id) => !people.some((p) => p.id === id));
    if (unknown.length) throw new InvalidInputError(`Unknown user${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    const now = this.clock.now();
    // Each reassignment pages the new assignees: not a way to page someone without end.
    const [recent] = await queryRows<{ n: number }>(
      em,
      `SELECT count(*)::int AS n FROM timeline WHERE incident_id = $1 AND kind = 'incident.reassigned' AND at > $2`,
      [incidentId, new Date(now.getTime() - 3_600_000)],
    );
    if (recent!.n >= MAX_REASSIGNS_PER_HOUR) {
      throw new TooManyRequestsError(
        `Incident #${incident.number} was reassigned ${MAX_REASSIGNS_PER_HOUR} times in the last hour, each time paging someone; wait before reassigning it again`,
      );
    }
    if (incident.status === 'acknowledged') await this.unmarkAcknowledged(em, incident, by, now, true);
    await em.query('UPDATE incidents SET assignees = $2::uuid[], updated_at = $3 WHERE id = $1', [incidentId, unique, now]);
    await this.timeline.add(em, incidentId, 'incident.reassigned', { userIds: unique, names: people.map((p) => p.name) }, by);
    await this.outbox.publish(em, 'incident.reassigned', incidentId, { ...this.ref(incident), by, userIds: unique, reassignedAt: now.toISOString() });
    await this.touch(em, incident);
    return this.reload(em, incidentId);
  }

  async changePriority(em: EntityManager, incidentId: string, by: Actor, priority: Priority): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    if (incident.priority !== priority || incident.prioritySource !== 'manual') await this.applyPriority(em, incident, priority, by);
    return this.reload(em, incidentId);
  }

  private async applyPriority(em: EntityManager, incident: Incident, priority: Priority, by: Actor): Promise<void> {
    const now = this.clock.now();
    const source = by.source === 'monitor' ? 'alert' : 'manual';
    await em.query('UPDATE incidents SET priority = $2, priority_source = $3, updated_at = $4 WHERE id = $1', [incident.id, priority, source, now]);
    if (incident.priority === priority) return;
    await this.slas.retarget(em, { ...incident, priority }, now);
    await this.timeline.add(em, incident.id, 'incident.priority-changed', { from: incident.priority, to: priority }, by);
    await this.outbox.publish(em, 'incident.priority-changed', incident.id, {
      ...this.ref(incident),
      by,
      from: incident.priority,
      to: priority,
      changedAt: now.toISOString(),
    });
  }

  /** Declares a major incident, or stands it down. */
  async setMajor(em: EntityManager, incidentId: string, by: Actor, major: boolean): Promise<Incident> {
    const incident = await this.lock(em, incidentId);
    if (incident.major === major) return incident;
    const now = this.clock.now();
    await em.query('UPDATE incidents SET major = $2, updated_at = $3 WHERE id = $1', [incidentId, major, now]);
    await this.timeline.add(em, incidentId, major ? 'incident.major-declared' : 'incident.major-cleared', {}, by);
    await this.outbox.publish(em, 'incident.major-changed', incidentId, { ...this.ref(incident), by, major, changedAt: now.toISOString() });
    const updated = await this.reload(em, incidentId);
    // Declared major after it resolved: it still gets its review.
    if (major && updated.status === 'resolved') for (const hook of this.hooks) await hook.onResolved(em, updated, by);
    return updated;
  }

  async addNote(em: EntityManager, incidentId: string, by: Actor, text: string): Promise<void> {
    const incident = await this.lock(em, incidentId);
    await this.timeline.add(em, incidentId, 'note', { text }, by);
    if (incident.status !== 'resolved') await this.touch(em, incident);
  }

  async setConferenceBridge(em: EntityManager, incidentId: string, by: Actor, bridge: { url: string | null; dialIn: string | null }): Promise<Incident> {
    await this.lock(em, incidentId);
    await em.query('UPDATE incidents SET conference_url = $2, conference_dial_in = $3, updated_at = $4 WHERE id = $1', [
      incidentId,
      bridge.url,
      bridge.dialIn,
      this.clock.now(),
    ]);
    await this.timeline.add(em, incidentId, 'incident.conference-bridge', { url: bridge.url, dialIn: bridge.dialIn }, by);
    return this.reload(em, incidentId);
  }

  // ---- from oncall and notifier -----------------------------------------------------------------

  /** oncall paged a level of the escalation policy: its users are the incident's assignees now. */
  async onStepFired(em: EntityManager, e: EventData<'escalation.step-fired'>): Promise<void> {
    // The row lock is the UPDATE's own; a resolved incident keeps its last assignees.
    if (e.userIds.length)
      await em.query(`UPDATE incidents SET assignees = $2::uuid[], escalation_level = $3, updated_at = $4 WHERE id = $1 AND status <> 'resolved'`, [
        e.incidentId,
        e.userIds,
        e.step + 1,
        this.clock.now(),
      ]);
    await this.timeline.addAboutPeople(
      em,
      e.incidentId,
      e.nobodyOnCall ? 'escalation.nobody-on-call' : 'escalation.step-fired',
      { step: e.step + 1, loop: e.loop, userIds: e.userIds },
      { userIds: e.userIds },
    );
  }

  // ---- timers -----------------------------------------------------------------------------------

  private async onAckTimeout(timer: Timer<{ incidentId: string; acknowledgedAt: string }>, em: EntityManager): Promise<void> {
    const incident = await em.findOne(Incident, { where: { id: timer.payload.incidentId }, lock: { mode: 'pessimistic_write' } });
    // Only the acknowledgement that set this timer times out: not a later one, nor a snoozed incident.
    if (!incident || incident.status !== 'acknowledged' || incident.snoozedUntil) return;
    if (incident.acknowledgedAt?.getTime() !== Date.parse(timer.payload.acknowledgedAt)) return;
    await this.retrigger(em, incident, 'ack-timeout', TIMEOUT);
  }

  private async onSnoozeEnd(timer: Timer<{ incidentId: string }>, em: EntityManager): Promise<void> {
    const incident = await em.findOne(Incident, { where: { id: timer.payload.incidentId }, lock: { mode: 'pessimistic_write' } });
    if (!incident || incident.status !== 'acknowledged' || !incident.snoozedUntil) return;
    if (incident.snoozedUntil.getTime() > this.clock.now().getTime()) {
      await this.timers.schedule(em, SNOOZE_END, snoozeKey(incident.id), incident.snoozedUntil, { incidentId: incident.id });
      return;
    }
    await this.retrigger(em, incident, 'snooze-expired', SYSTEM);
  }

  private async onAutoResolveTimer(timer: Timer<{ incidentId: string }>, em: EntityManager): Promise<void> {
    const incident = await em.findOne(Incident, { where: { id: timer.payload.incidentId }, lock: { mode: 'pessimistic_write' } });
    if (!incident || incident.status === 'resolved') return;
    const svc = await this.directory.service(em, incident.serviceId);
    if (!svc.autoResolveTimeoutSeconds) return;
    const due = this.inactivityDeadline(incident, svc.autoResolveTimeoutSeconds);
    if (due.getTime() > this.clock.now().getTime()) {
      await this.timers.schedule(em, AUTO_RESOLVE, autoResolveKey(incident.id), due, { incidentId: incident.id });
      return;
    }
    await this.resolve(em, incident.id, TIMEOUT, { quiet: true, reason: `no activity for ${Math.round(svc.autoResolveTimeoutSeconds / 60)} minutes` });
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * Back to triggered: an acknowledgement timed out, a snooze ended, or a responder withdrew the
   * acknowledgement. oncall restarts escalation on the incident.triggered that follows.
   */
  private async retrigger(em: EntityManager, incident: Incident, reason: 'ack-timeout' | 'snooze-expired' | 'reopened', by: Actor): Promise<void> {
    const now = this.clock.now();
    await this.unmarkAcknowledged(em, incident, by, now, reason !== 'snooze-expired');
    await this.timeline.add(em, incident.id, 'incident.triggered', { reason }, by);
    await this.outbox.publish(em, 'incident.triggered', incident.id, {
      ...this.ref(incident),
      title: incident.title,
      priority: incident.priority,
      urgency: incident.urgency,
      alertId: null,
      triggeredAt: now.toISOString(),
      reason,
    });
    await this.touch(em, incident);
  }

  private async unmarkAcknowledged(em: EntityManager, incident: Incident, by: Actor, now: Date, announce: boolean): Promise<void> {
    await em.query(
      `UPDATE incidents SET status = 'triggered', acknowledged_at = NULL, acknowledged_by = NULL, snoozed_until = NULL, updated_at = $2 WHERE id = $1`,
      [incident.id, now],
    );
    // A snooze that ran its course ends at its end time, even if its timer fired a little later.
    if (incident.snoozedUntil) await this.slas.resume(em, incident, new Date(Math.min(now.getTime(), incident.snoozedUntil.getTime())));
    await this.timers.cancel(em, ackTimeoutKey(incident.id));
    await this.timers.cancel(em, snoozeKey(incident.id));
    if (!announce) return;
    await this.timeline.add(em, incident.id, 'incident.unacknowledged', {}, by);
    await this.outbox.publish(em, 'incident.unacknowledged', incident.id, { ...this.ref(incident), by, unacknowledgedAt: now.toISOString() });
  }

  /** Something happened: the inactivity auto-resolve timeout starts again. */
  private async touch(em: EntityManager, incident: Incident, svc?: ServiceSettings): Promise<void> {
    const now = this.clock.now();
    await em.query('UPDATE incidents SET last_activity_at = $2 WHERE id = $1', [incident.id, now]);
    await this.scheduleAutoResolve(em, incident.id, svc ?? (await this.directory.service(em, incident.serviceId)), now);
  }

  private async scheduleAutoResolve(em: EntityManager, incidentId: string, svc: ServiceSettings, lastActivity: Date): Promise<void> {
    if (!svc.autoResolveTimeoutSeconds) return;
    await this.timers.schedule(em, AUTO_RESOLVE, autoResolveKey(incidentId), new Date(lastActivity.getTime() + svc.autoResolveTimeoutSeconds * 1000), {
      incidentId,
    });
  }

  /** A snoozed incident is not inactive: the timeout counts from the end of the snooze. */
  private inactivityDeadline(incident: Incident, timeoutSeconds: number): Date {
    const from = Math.max(incident.lastActivityAt?.getTime() ?? incident.createdAt.getTime(), incident.snoozedUntil?.getTime() ?? 0);
    return new Date(from + timeoutSeconds * 1000);
  }

  /** Throws the 409 a user sees for a command that does not apply; quiet commands just report false. */
  private allowed(incident: Incident, t: Transition, opts: CommandOptions = {}): boolean {
    if (t.ok) return true;
    if (opts.quiet) return false;
    const who =
      t.reason === 'already' && incident.status === 'acknowledged' ? incident.acknowledgedBy : t.reason === 'not-acknowledged' ? null : incident.resolvedBy;
    throw new ConflictError(`Incident #${incident.number} was ${t.message}${describeActor(who)}`);
  }

  private ref(incident: Incident): { incidentId: string; number: number; serviceId: string } {
    return { incidentId: incident.id, number: incident.number, serviceId: incident.serviceId };
  }

  async get(em: EntityManager, incidentId: string): Promise<Incident> {
    const incident = await em.findOne(Incident, { where: { id: incidentId } });
    if (!incident) throw new NotFoundError('Incident', incidentId);
    return incident;
  }

  async lock(em: EntityManager, incidentId: string): Promise<Incident> {
    const incident = await em.findOne(Incident, { where: { id: incidentId }, lock: { mode: 'pessimistic_write' } });
    if (!incident) throw new NotFoundError('Incident', incidentId);
    return incident;
  }

  private async reload(em: EntityManager, incidentId: string): Promise<Incident> {
    return (await em.findOne(Incident, { where: { id: incidentId } }))!;
  }

  private async recordAlert(em: EntityManager, alert: EventData<'alert.triggered'>, incidentId: string | null): Promise<void> {
    await em.query(
      `INSERT INTO incident_alerts (alert_id, incident_id, service_id, dedup_key, summary, severity, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'triggered', $7)
       ON CONFLICT (alert_id) DO UPDATE SET incident_id = EXCLUDED.incident_id WHERE incident_alerts.incident_id IS NULL`,
      [alert.alertId, incidentId, alert.serviceId, alert.dedupKey, alert.summary, alert.severity, alert.triggeredAt],
    );
  }
}

export function describeActor(actor: Actor | null): string {
  if (!actor) return '';
  if (actor.name) return ` by ${actor.name}`;
  if (actor.source === 'monitor') return ' by the monitoring tool';
  if (actor.source === 'timeout') return ' automatically (timeout)';
  if (actor.source === 'system') return ' automatically';
  return ` via ${actor.source}`;
}
