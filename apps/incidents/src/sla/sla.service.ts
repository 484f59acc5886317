import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { Outbox, TimerRunner, Timers, type Timer } from '#libs/messaging';
import type { Priority } from '../incidents/lifecycle.js';
import { Timeline } from '../timeline/timeline.service.js';
import { SLA_GOALS, breachMoment, dueAt, pause, resume, stop, view, type SlaClock, type SlaGoal, type SlaView } from './sla.js';

/** What SLA bookkeeping needs to know about an incident (whose row the caller has locked). */
export interface SlaIncident {
  id: string;
  number: number;
  serviceId: string;
  priority: Priority;
}

interface ClockRow {
  incident_id: string;
  goal: SlaGoal;
  target_seconds: number | null;
  started_at: Date;
  paused_ms: string;
  paused_since: Date | null;
  stopped_at: Date | null;
  breached_at: Date | null;
}

export interface SlaPolicyGoal {
  priority: Priority;
  acknowledgeSeconds: number | null;
  resolveSeconds: number | null;
}

const SLA_TIMER = 'incident.sla';
const timerKey = (incidentId: string, goal: SlaGoal): string => `sla:${incidentId}:${goal}`;

function toClock(r: ClockRow): SlaClock {
  return {
    goal: r.goal,
    targetSeconds: r.target_seconds,
    startedAt: new Date(r.started_at),
    pausedMs: Number(r.paused_ms),
    pausedSince: r.paused_since ? new Date(r.paused_since) : null,
    stoppedAt: r.stopped_at ? new Date(r.stopped_at) : null,
    breachedAt: r.breached_at ? new Date(r.breached_at) : null,
  };
}

/**
 * Keeps each incident's SLA clocks (see sla.ts) in step with its lifecycle, and detects breaches
 * with a durable timer per running clock, due at the exact moment of the breach. Every method runs
 * in the caller's transaction, after the caller locked the incident row: the incident's lock
 * serialises everything that touches its clocks.
 */
@Injectable()
export class SlaService implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    private readonly timers: Timers,
    private readonly timerRunner: TimerRunner,
    private readonly timeline: Timeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.timerRunner.register<{ incidentId: string; goal: SlaGoal }>(SLA_TIMER, (timer, em) => this.onTimer(timer, em));
  }

  // ---- policies -----------------------------------------------------------------------------------

  async policy(em: EntityManager, serviceId: string): Promise<SlaPolicyGoal[]> {
    const rows: { priority: Priority; acknowledge_seconds: number | null; resolve_seconds: number | null }[] = await em.query(
      'SELECT priority, acknowledge_seconds, resolve_seconds FROM sla_policies WHERE service_id = $1 ORDER BY priority',
      [serviceId],
    );
    return rows.map((r) => ({ priority: r.priority, acknowledgeSeconds: r.acknowledge_seconds, resolveSeconds: r.resolve_seconds }));
  }

  /** Replaces a service's goals. Open incidents keep their targets until their priority changes. */
  async setPolicy(em: EntityManager, serviceId: string, goals: SlaPolicyGoal[]): Promise<void> {
    await em.query('DELETE FROM sla_policies WHERE service_id = $1', [serviceId]);
    for (const g of goals) {
      await em.query('INSERT INTO sla_policies (service_id, priority, acknowledge_seconds, resolve_seconds, updated_at) VALUES ($1, $2, $3, $4, $5)', [
        serviceId,
        g.priority,
        g.acknowledgeSeconds,
        g.resolveSeconds,
        this.clock.now(),
      ]);
    }
  }

  private async targets(em: EntityManager, serviceId: string, priority: Priority): Promise<Record<SlaGoal, number | null>> {
    const [row]: { acknowledge_seconds: number | null; resolve_seconds: number | null }[] = await em.query(
      'SELECT acknowledge_seconds, resolve_seconds FROM sla_policies WHERE service_id = $1 AND priority = $2',
      [serviceId, priority],
    );
    return { acknowledge: row?.acknowledge_seconds ?? null, resolve: row?.resolve_seconds ?? null };
  }

  // ---- lifecycle hooks ----------------------------------------------------------------------------

  /** A new incident: both clocks start now, with the targets of the service's policy for its priority (one statement). */
  async start(em: EntityManager, incident: SlaIncident, at: Date): Promise<void> {
    const rows: { goal: SlaGoal; target_seconds: number | null }[] = await em.query(
      `INSERT INTO incident_slas (incident_id, goal, target_seconds, started_at)
       SELECT $1, g.goal, CASE g.goal WHEN 'acknowledge' THEN p.acknowledge_seconds ELSE p.resolve_seconds END, $4
       FROM (VALUES ('acknowledge'), ('resolve')) AS g (goal)
       LEFT JOIN sla_policies p ON p.service_id = $2 AND p.priority = $3
       RETURNING goal, target_seconds`,
      [incident.id, incident.serviceId, incident.priority, at],
    );
    for (const r of rows) {
      if (r.target_seconds === null) continue;
      await this.reschedule(em, incident.id, {
        goal: r.goal,
        targetSeconds: r.target_seconds,
        startedAt: at,
        pausedMs: 0,
        pausedSince: null,
        stoppedAt: null,
        breachedAt: null,
      });
    }
  }

  /** Stops clocks: the acknowledge goal at the first acknowledgement, both at resolution. */
  async stop(em: EntityManager, incident: SlaIncident, goals: readonly SlaGoal[], at: Date): Promise<void> {
    await this.update(em, incident, goals, (c) => stop(c, at), at);
  }

  /** Snoozed time does not count. */
  async pause(em: EntityManager, incident: SlaIncident, at: Date): Promise<void> {
    await this.update(em, incident, SLA_GOALS, (c) => pause(c, at), at);
  }

  async resume(em: EntityManager, incident: SlaIncident, at: Date): Promise<void> {
    await this.update(em, incident, SLA_GOALS, (c) => resume(c, at), at);
  }

  /** A priority change moves the targets of clocks still running; met and breached clocks keep theirs. */
  async retarget(em: EntityManager, incident: SlaIncident, at: Date): Promise<void> {
    const targets = await this.targets(em, incident.serviceId, incident.priority);
    await this.update(em, incident, SLA_GOALS, (c) => (c.stoppedAt || c.breachedAt ? c : { ...c, targetSeconds: targets[c.goal] }), at);
  }

  /**
   * Applies a change to clocks. A breach that already happened (its timer not fired yet, say the
   * runner was busy) is recorded first, at the moment it happened, so stopping late never turns a
   * breach into "met".
   */
  private async update(em: EntityManager, incident: SlaIncident, goals: readonly SlaGoal[], change: (c: SlaClock) => SlaClock, at: Date): Promise<void> {
    const rows: ClockRow[] = await em.query('SELECT * FROM incident_slas WHERE incident_id = $1 AND goal = ANY($2::text[]) ORDER BY goal', [
      incident.id,
      goals,
    ]);
    for (const row of rows) {
      let clock = toClock(row);
      const breach = breachMoment(clock, at);
      if (breach) clock = await this.recordBreach(em, incident, clock, breach);
      const next = change(clock);
      await em.query(
        `UPDATE incident_slas SET target_seconds = $3, paused_ms = $4, paused_since = $5, stopped_at = $6, breached_at = $7
         WHERE incident_id = $1 AND goal = $2`,
        [incident.id, next.goal, next.targetSeconds, next.pausedMs, next.pausedSince, next.stoppedAt, next.breachedAt],
      );
      await this.reschedule(em, incident.id, next);
    }
  }

  private async reschedule(em: EntityManager, incidentId: string, clock: SlaClock): Promise<void> {
    const due = clock.breachedAt ? null : dueAt(clock);
    if (due) await this.timers.schedule(em, SLA_TIMER, timerKey(incidentId, clock.goal), due, { incidentId, goal: clock.goal });
    else await this.timers.cancel(em, timerKey(incidentId, clock.goal));
  }

  private async recordBreach(em: EntityManager, incident: SlaIncident, clock: SlaClock, at: Date): Promise<SlaClock> {
    await em.query('UPDATE incident_slas SET breached_at = $3 WHERE incident_id = $1 AND goal = $2', [incident.id, clock.goal, at]);
    const details = { goal: clock.goal, targetSeconds: clock.targetSeconds, priority: incident.priority, breachedAt: at.toISOString() };
    await this.timeline.add(em, incident.id, 'sla.breached', details, { userId: null, name: null, source: 'system' });
    await this.outbox.publish(em, 'incident.sla-breached', incident.id, {
      incidentId: incident.id,
      number: incident.number,
      serviceId: incident.serviceId,
      goal: clock.goal,
      priority: incident.priority,
      targetSeconds: clock.targetSeconds!,
      breachedAt: at.toISOString(),
    });
    return { ...clock, breachedAt: at };
  }

  private async onTimer(timer: Timer<{ incidentId: string; goal: SlaGoal }>, em: EntityManager): Promise<void> {
    const [incident]: { id: string; number: number; service_id: string; priority: Priority }[] = await em.query(
      'SELECT id, number, service_id, priority FROM incidents WHERE id = $1 FOR UPDATE',
      [timer.payload.incidentId],
    );
    if (!incident) return;
    const [row]: ClockRow[] = await em.query('SELECT * FROM incident_slas WHERE incident_id = $1 AND goal = $2', [incident.id, timer.payload.goal]);
    if (!row) return;
    const clock = toClock(row);
    const now = this.clock.now();
    const breach = breachMoment(clock, now);
    const ref = { id: incident.id, number: incident.number, serviceId: incident.service_id, priority: incident.priority };
    if (breach) await this.recordBreach(em, ref, clock, breach);
    // Fired early (the target moved): wait for the new due time.
    else await this.reschedule(em, incident.id, clock);
  }

  // ---- queries ------------------------------------------------------------------------------------

  /** The SLA status of each incident's goals that have a target. */
  async views(em: EntityManager, incidentIds: string[]): Promise<Map<string, SlaView[]>> {
    const out = new Map<string, SlaView[]>(incidentIds.map((id) => [id, []]));
    if (incidentIds.length === 0) return out;
    const rows: ClockRow[] = await em.query('SELECT * FROM incident_slas WHERE incident_id = ANY($1::uuid[]) ORDER BY goal', [incidentIds]);
    const now = this.clock.now();
    for (const row of rows) {
      const v = view(toClock(row), now);
      if (v) out.get(row.incident_id)!.push(v);
    }
    return out;
  }
}
