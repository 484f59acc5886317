import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData } from '#libs/contracts';
import { Outbox, TimerRunner, Timers, type Timer } from '#libs/messaging';
import { LOGGER } from '#libs/platform';
import { nextPosition, totalFirings, type PolicySnapshot, type Position } from './policy.js';
import { TargetResolver } from './targets.js';

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
}

const STEP_TIMER = 'escalation.step';
const timerKey = (incidentId: string): string => `escalation:${incidentId}`;

/**
 * The escalation engine. Event-driven for the first page (no polling: step 1 pages in the same
 * transaction that records the incident), durable timers for later steps. Every step firing is a
 * row with a primary key of (incident, generation, loop, step): a step fires once even if the
 * trigger event is redelivered or two instances race.
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

  /** An incident triggered (new, or again after an acknowledgement timeout): start at step 1. */
  async start(em: EntityManager, incident: EventData<'incident.triggered'>): Promise<void> {
    const [existing]: EscalationRow[] = await em.query('SELECT * FROM escalations WHERE incident_id = $1 FOR UPDATE', [incident.incidentId]);
    if (existing) {
      if (existing.state === 'active' && incident.reason === 'new') return;
      await em.query(
        `UPDATE escalations SET generation = generation + 1, step = 0, loop = 0, state = 'active', updated_at = $2 WHERE incident_id = $1`,
        [incident.incidentId, this.clock.now()],
      );
      const [restarted]: EscalationRow[] = await em.query('SELECT * FROM escalations WHERE incident_id = $1', [incident.incidentId]);
      await this.fire(em, restarted!, { step: 0, loop: 0 });
      return;
    }

    const [service]: { name: string; policy_id: string | null }[] = await em.query(
      'SELECT name, escalation_policy_id AS policy_id FROM services WHERE id = $1',
      [incident.serviceId],
    );
    const [policy]: { id: string; name: string; repeat_count: number; steps: PolicySnapshot['steps'] }[] = service?.policy_id
      ? await em.query('SELECT id, name, repeat_count, steps FROM escalation_policies WHERE id = $1', [service.policy_id])
      : [];
    if (!policy) {
      this.logger.warn({ incidentId: incident.incidentId, serviceId: incident.serviceId }, 'incident on a service without an escalation policy: nobody paged');
      await this.outbox.publish(em, 'escalation.exhausted', incident.incidentId, { incidentId: incident.incidentId, exhaustedAt: this.clock.now().toISOString() });
      return;
    }
    const snapshot: PolicySnapshot = { id: policy.id, name: policy.name, repeatCount: policy.repeat_count, steps: policy.steps };
    const [row]: EscalationRow[] = await em.query(
      `INSERT INTO escalations (incident_id, incident_number, service_id, service_name, title, urgency, policy, generation, step, loop, state, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 1, 0, 0, 'active', $8) RETURNING *`,
      [incident.incidentId, incident.number, incident.serviceId, service!.name, incident.title, incident.urgency, JSON.stringify(snapshot), this.clock.now()],
    );
    await this.fire(em, row!, { step: 0, loop: 0 });
  }

  /** Acknowledged or resolved: no further steps. */
  async stop(em: EntityManager, incidentId: string): Promise<void> {
    await em.query(`UPDATE escalations SET state = 'stopped', updated_at = $2 WHERE incident_id = $1 AND state = 'active'`, [incidentId, this.clock.now()]);
    await this.timers.cancel(em, timerKey(incidentId));
  }

  private async onStepTimer(timer: Timer<StepTimerPayload>, em: EntityManager): Promise<void> {
    const incidentId = timer.key.slice('escalation:'.length);
    const [esc]: EscalationRow[] = await em.query('SELECT * FROM escalations WHERE incident_id = $1 FOR UPDATE', [incidentId]);
    const p = timer.payload;
    // A timer from an earlier generation or position is stale: ignore it.
    if (!esc || esc.state !== 'active' || esc.generation !== p.generation || esc.step !== p.step || esc.loop !== p.loop) return;
    const next = nextPosition(esc.policy, { step: esc.step, loop: esc.loop });
    if (!next) return this.exhaust(em, esc);
    await this.fire(em, esc, next);
  }

  /**
   * Pages the step at `position`. A step whose targets resolve to nobody is recorded and
   * escalation moves straight on; the walk is bounded by the policy's total firings.
   */
  private async fire(em: EntityManager, esc: EscalationRow, position: Position): Promise<void> {
    let at: Position | null = position;
    for (let guard = 0; at && guard <= totalFirings(esc.policy); guard++) {
      const now = this.clock.now();
      const step = esc.policy.steps[at.step]!;
      const users = await this.targets.resolve(em, step.targets, now);
      const userIds = users.map((u) => u.id);
      const fired: unknown[] = await em.query(
        `INSERT INTO escalation_firings (incident_id, generation, loop, step, user_ids, fired_at)
         VALUES ($1, $2, $3, $4, $5::uuid[], $6) ON CONFLICT DO NOTHING RETURNING 1`,
        [esc.incident_id, esc.generation, at.loop, at.step, userIds, now],
      );
      if (fired.length === 0) return; // this step already fired for this generation
      await em.query('UPDATE escalations SET step = $2, loop = $3, updated_at = $4 WHERE incident_id = $1', [esc.incident_id, at.step, at.loop, now]);
      await this.outbox.publish(em, 'escalation.step-fired', esc.incident_id, {
        incidentId: esc.incident_id,
        step: at.step,
        loop: at.loop,
        userIds,
        nobodyOnCall: userIds.length === 0,
        firedAt: now.toISOString(),
      });
      await this.outbox.publishMany(
        em,
        users.map((user) => ({
          type: 'page.requested' as const,
          key: esc.incident_id,
          data: {
            pageId: `${esc.incident_id}:g${esc.generation}:l${at!.loop}:s${at!.step}:${user.id}`,
            incidentId: esc.incident_id,
            incidentNumber: esc.incident_number,
            serviceId: esc.service_id,
            serviceName: esc.service_name,
            title: esc.title,
            urgency: esc.urgency,
            userId: user.id,
            userName: user.name,
            userEmail: user.email,
            step: at!.step,
            loop: at!.loop,
            requestedAt: now.toISOString(),
          },
        })),
      );
      if (userIds.length > 0) {
        const payload: StepTimerPayload = { generation: esc.generation, step: at.step, loop: at.loop };
        await this.timers.schedule(em, STEP_TIMER, timerKey(esc.incident_id), new Date(now.getTime() + step.delayMinutes * 60_000), payload);
        return;
      }
      esc = { ...esc, step: at.step, loop: at.loop };
      at = nextPosition(esc.policy, at);
    }
    await this.exhaust(em, esc);
  }

  private async exhaust(em: EntityManager, esc: EscalationRow): Promise<void> {
    await em.query(`UPDATE escalations SET state = 'exhausted', updated_at = $2 WHERE incident_id = $1`, [esc.incident_id, this.clock.now()]);
    await this.outbox.publish(em, 'escalation.exhausted', esc.incident_id, { incidentId: esc.incident_id, exhaustedAt: this.clock.now().toISOString() });
  }
}
