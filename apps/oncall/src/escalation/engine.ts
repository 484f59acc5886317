import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { Outbox, TimerRunner, Timers, type OutboxEvent, type Timer } from '#libs/messaging';
import { LOGGER } from '#libs/platform';
import { nextPosition, totalFirings, type PolicySnapshot, type Position } from './policy.js';
import { TargetResolver, type PagedUser } from './targets.js';

interface EscalationRow {
  incident_id: string;
  incident_number: number;
  service_id: string;
  service_name: string;
  title: string;
  urgency: 'high' | 'low';
  policy: PolicySnapshot;
  generation: number;
  step: number;
  loop: number;
  state: 'active' | 'stopped' | 'exhausted';
}

interface StepTimerPayload {
  generation: number;
  step: number;
  loop: number;
  /**
   * 'next' (the default): the step at (step, loop) has waited its delay; move on.
   * 'fire': the step at (step, loop) was held back by a maintenance window that has now ended.
   */
  action?: 'next' | 'fire';
}

const STEP_TIMER = 'escalation.step';
const timerKey = (incidentId: string): string => `escalation:${incidentId}`;

/**
 * The escalation engine. Event-driven for the first page (no polling: step 1 pages in the same
 * transaction that records the incident), durable timers for later steps. Every step firing is a
 * row with a primary key of (incident, generation, loop, step): a step fires once even if the
 * trigger event is redelivered or two instances race. Every change to an escalation first locks
 * its row (FOR UPDATE), so an ack, a manual escalation and a due timer are applied one at a time.
 *
 * - Low urgency (PagerDuty's rule): the first step with someone to page pages, and escalation then
 *   waits; it moves on only when someone escalates by hand.
 * - A maintenance window on the service holds the next page until the window ends (nothing is
 *   dropped: if the incident is still open then, the held step fires).
 */
@Injectable()
export class EscalationEngine implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    private readonly timerRunner: TimerRunner,
    private readonly targets: TargetResolver,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timerRunner.register<StepTimerPayload>(STEP_TIMER, (timer, em) => this.onStepTimer(timer, em));
  }

  /** An incident triggered (new, or again after an acknowledgement timeout or a snooze): start at step 1. */
  async start(em: EntityManager, incident: EventData<'incident.triggered'>): Promise<void> {
    if (incident.reason !== 'new') {
      const existing = await this.lock(em, incident.incidentId);
      if (existing) {
        const [restarted] = await queryRows<EscalationRow>(
          em,
          `UPDATE escalations SET generation = generation + 1, step = 0, loop = 0, state = 'active', urgency = $2, title = $3, updated_at = $4
           WHERE incident_id = $1 RETURNING *`,
          [incident.incidentId, incident.urgency, incident.title, this.clock.now()],
        );
        await this.timers.cancel(em, timerKey(incident.incidentId));
        await this.fire(em, restarted!, { step: 0, loop: 0 });
        return;
      }
    }
    // In one statement: look up the service's policy, snapshot it and start at step 1. Nothing
    // inserted means the incident is already escalating (the same incident announced as new twice
    // is one incident: never a second round of pages) or its service has no policy.
    const [row] = await queryRows<EscalationRow>(
      em,
      `INSERT INTO escalations (incident_id, incident_number, service_id, service_name, title, urgency, policy, generation, step, loop, state, updated_at)
       SELECT $1, $2, s.id, s.name, $4, $5, jsonb_build_object('id', p.id, 'name', p.name, 'repeatCount', p.repeat_count, 'steps', p.steps), 1, 0, 0, 'active', $6
       FROM services s JOIN escalation_policies p ON p.id = s.escalation_policy_id WHERE s.id = $3
       ON CONFLICT (incident_id) DO NOTHING RETURNING *`,
      [incident.incidentId, incident.number, incident.serviceId, incident.title, incident.urgency, this.clock.now()],
    );
    if (row) return this.fire(em, row, { step: 0, loop: 0 });
    const [existing] = await queryRows<{ one: number }>(em, 'SELECT 1 AS one FROM escalations WHERE incident_id = $1', [incident.incidentId]);
    if (!existing) await this.noPolicy(em, incident);
  }

  private async noPolicy(em: EntityManager, incident: EventData<'incident.triggered'>): Promise<void> {
    this.logger.warn({ incidentId: incident.incidentId, serviceId: incident.serviceId }, 'incident on a service without an escalation policy: nobody paged');
    await this.outbox.publish(em, 'escalation.exhausted', incident.incidentId, {
      incidentId: incident.incidentId,
      exhaustedAt: this.clock.now().toISOString(),
    });
  }

  /** Acknowledged, snoozed or resolved: no further steps (a snooze ends with a new trigger). */
  async stop(em: EntityManager, incidentId: string): Promise<void> {
    await em.query(`UPDATE escalations SET state = 'stopped', updated_at = $2 WHERE incident_id = $1 AND state = 'active'`, [incidentId, this.clock.now()]);
    await this.timers.cancel(em, timerKey(incidentId));
  }

  /**
   * Someone escalated by hand: page the next step now, whatever state escalation is in. After the
   * last step of the last repeat it goes round once more from step 1. A person asked for it, so a
   * maintenance window does not hold it back.
   */
  async escalate(em: EntityManager, incidentId: string): Promise<void> {
    const esc = await this.lock(em, incidentId);
    if (!esc) {
      this.logger.warn({ incidentId }, 'manual escalation of an incident oncall is not escalating (no policy): nobody paged');
      return;
    }
    await this.timers.cancel(em, timerKey(incidentId));
    if (esc.state !== 'active')
      await em.query(`UPDATE escalations SET state = 'active', updated_at = $2 WHERE incident_id = $1`, [incidentId, this.clock.now()]);
    const at = { step: esc.step, loop: esc.loop };
    const next = nextPosition(esc.policy, at) ?? { step: 0, loop: esc.loop + 1 };
    await this.fire(em, { ...esc, state: 'active' }, next, { manual: true });
  }

  /** The incident was handed to these users: page them now. Escalation carries on as it was. */
  async reassign(em: EntityManager, data: EventData<'incident.reassigned'>, eventId: string): Promise<void> {
    const [esc] = await queryRows<EscalationRow>(em, 'SELECT * FROM escalations WHERE incident_id = $1', [data.incidentId]);
    const [service] = esc ? [] : await queryRows<{ name: string }>(em, 'SELECT name FROM services WHERE id = $1', [data.serviceId]);
    const users = await this.targets.resolve(
      em,
      data.userIds.map((id) => ({ type: 'user' as const, id })),
      this.clock.now(),
    );
    const missing = data.userIds.filter((id) => !users.some((u) => u.id === id));
    if (missing.length) this.logger.warn({ incidentId: data.incidentId, missing }, 'reassigned to users oncall does not know: they are not paged');
    await this.page(
      em,
      {
        incident_id: data.incidentId,
        incident_number: data.number,
        service_id: data.serviceId,
        service_name: esc?.service_name ?? service?.name ?? 'Unknown service',
        title: esc?.title ?? `Incident #${data.number}`,
        urgency: esc?.urgency ?? 'high',
      },
      users,
      (user) => `${data.incidentId}:reassign:${eventId}:${user.id}`,
      { step: esc?.step ?? 0, loop: esc?.loop ?? 0 },
      'reassigned',
    );
  }

  /** A maintenance window changed: held escalations of these services re-check now. */
  async maintenanceChanged(em: EntityManager, serviceIds: string[]): Promise<void> {
    if (!serviceIds.length) return;
    const held = await queryRows<{ key: string }>(
      em,
      `SELECT t.key FROM escalations e JOIN timers t ON t.key = 'escalation:' || e.incident_id
       WHERE e.service_id = ANY($1::uuid[]) AND e.state = 'active' AND t.payload->>'action' = 'fire'`,
      [serviceIds],
    );
    for (const { key } of held) {
      const timer = await this.timers.find(em, key);
      if (timer) await this.timers.schedule(em, STEP_TIMER, key, this.clock.now(), timer.payload);
    }
  }

  private async onStepTimer(timer: Timer<StepTimerPayload>, em: EntityManager): Promise<void> {
    const incidentId = timer.key.slice('escalation:'.length);
    const esc = await this.lock(em, incidentId);
    const p = timer.payload;
    // A timer from an earlier generation or position is stale: ignore it.
    if (!esc || esc.state !== 'active' || esc.generation !== p.generation) return;
    if (p.action === 'fire') return this.fire(em, esc, { step: p.step, loop: p.loop });
    if (esc.step !== p.step || esc.loop !== p.loop) return;
    const next = nextPosition(esc.policy, { step: esc.step, loop: esc.loop });
    if (!next) return this.exhaust(em, esc);
    await this.fire(em, esc, next);
  }

  /**
   * Pages the step at `position`. A step whose targets resolve to nobody is recorded and
   * escalation moves straight on; the walk is bounded by the policy's total firings.
   */
  private async fire(em: EntityManager, esc: EscalationRow, position: Position, opts: { manual?: boolean } = {}): Promise<void> {
    const now = this.clock.now();
    if (!opts.manual) {
      const heldUntil = await this.maintenanceEnd(em, esc.service_id, now);
      if (heldUntil) {
        this.logger.info({ incidentId: esc.incident_id, step: position.step, until: heldUntil.toISOString() }, 'service in maintenance: escalation held');
        const payload: StepTimerPayload = { generation: esc.generation, step: position.step, loop: position.loop, action: 'fire' };
        await this.timers.schedule(em, STEP_TIMER, timerKey(esc.incident_id), heldUntil, payload);
        return;
      }
    }
    let at: Position | null = position;
    for (let guard = 0; at && guard <= totalFirings(esc.policy) + 1; guard++) {
      const step = esc.policy.steps[at.step]!;
      const users = await this.targets.resolve(em, step.targets, now);
      const userIds = users.map((u) => u.id);
      const fired: unknown[] = await em.query(
        `INSERT INTO escalation_firings (incident_id, generation, loop, step, user_ids, fired_at)
         VALUES ($1, $2, $3, $4, $5::uuid[], $6) ON CONFLICT DO NOTHING RETURNING 1`,
        [esc.incident_id, esc.generation, at.loop, at.step, userIds, now],
      );
      if (fired.length === 0) return; // this step already fired for this generation
      // (A fresh escalation is already at step 1.)
      if (esc.step !== at.step || esc.loop !== at.loop)
        await em.query('UPDATE escalations SET step = $2, loop = $3, updated_at = $4 WHERE incident_id = $1', [esc.incident_id, at.step, at.loop, now]);
      const pos: Position = at;
      // The step's record and its pages go to the outbox in one statement, in this order.
      await this.outbox.publishMany(em, [
        {
          type: 'escalation.step-fired' as const,
          key: esc.incident_id,
          data: { incidentId: esc.incident_id, step: at.step, loop: at.loop, userIds, nobodyOnCall: userIds.length === 0, firedAt: now.toISOString() },
        },
        ...this.pages(esc, users, (user) => `${esc.incident_id}:g${esc.generation}:l${pos.loop}:s${pos.step}:${user.id}`, pos),
      ]);
      if (userIds.length > 0) {
        // Low urgency notifies and waits: no automatic escalation (PagerDuty's rule).
        if (esc.urgency === 'low') return;
        const payload: StepTimerPayload = { generation: esc.generation, step: at.step, loop: at.loop };
        await this.timers.schedule(em, STEP_TIMER, timerKey(esc.incident_id), new Date(now.getTime() + step.delayMinutes * 60_000), payload);
        return;
      }
      esc = { ...esc, step: at.step, loop: at.loop };
      at = nextPosition(esc.policy, at);
    }
    await this.exhaust(em, esc);
  }

  private async page(
    em: EntityManager,
    esc: Pick<EscalationRow, 'incident_id' | 'incident_number' | 'service_id' | 'service_name' | 'title' | 'urgency'>,
    users: PagedUser[],
    pageId: (user: PagedUser) => string,
    at: Position,
    reason: 'escalation' | 'reassigned' = 'escalation',
  ): Promise<void> {
    await this.outbox.publishMany(em, this.pages(esc, users, pageId, at, reason));
  }

  private pages(
    esc: Pick<EscalationRow, 'incident_id' | 'incident_number' | 'service_id' | 'service_name' | 'title' | 'urgency'>,
    users: PagedUser[],
    pageId: (user: PagedUser) => string,
    at: Position,
    reason: 'escalation' | 'reassigned' = 'escalation',
  ): OutboxEvent[] {
    const requestedAt = this.clock.now().toISOString();
    return users.map((user) => ({
      type: 'page.requested' as const,
      key: esc.incident_id,
      data: {
        pageId: pageId(user),
        incidentId: esc.incident_id,
        incidentNumber: esc.incident_number,
        serviceId: esc.service_id,
        serviceName: esc.service_name,
        title: esc.title,
        urgency: esc.urgency,
        userId: user.id,
        userName: user.name,
        userEmail: user.email,
        step: at.step,
        loop: at.loop,
        reason,
        requestedAt,
      },
    }));
  }

  private async maintenanceEnd(em: EntityManager, serviceId: string, now: Date): Promise<Date | null> {
    const [row] = await queryRows<{ until: Date | null }>(
      em,
      'SELECT max(ends_at) AS until FROM maintenance_windows WHERE $1 = ANY(service_ids) AND starts_at <= $2 AND ends_at > $2',
      [serviceId, now],
    );
    return row?.until ? new Date(row.until) : null;
  }

  private async lock(em: EntityManager, incidentId: string): Promise<EscalationRow | undefined> {
    const [row] = await queryRows<EscalationRow>(em, 'SELECT * FROM escalations WHERE incident_id = $1 FOR UPDATE', [incidentId]);
    return row;
  }

  private async exhaust(em: EntityManager, esc: EscalationRow): Promise<void> {
    await em.query(`UPDATE escalations SET state = 'exhausted', updated_at = $2 WHERE incident_id = $1`, [esc.incident_id, this.clock.now()]);
    await this.outbox.publish(em, 'escalation.exhausted', esc.incident_id, { incidentId: esc.incident_id, exhaustedAt: this.clock.now().toISOString() });
  }
}
