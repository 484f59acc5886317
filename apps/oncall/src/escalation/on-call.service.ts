import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { urgencyAt, type UrgencyRule } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { NotFoundError } from '#libs/platform';
import type { z } from 'zod';
import { onCallAt } from '../schedules/domain/final-schedule.js';
import { loadSchedules, usersById } from '../schedules/schedule.repository.js';
import { nextPosition, totalFirings, type PolicySnapshot, type Position, type Step } from './policy.js';
import { TargetResolver, type PagedUser, type ResolvedTarget } from './targets.js';

interface ServiceRow {
  id: string;
  name: string;
  team_id: string | null;
  urgency_rule: z.output<typeof UrgencyRule>;
  policy_id: string | null;
  policy_name: string | null;
  repeat_count: number | null;
  steps: Step[] | null;
}

const iso = (d: Date | number): string => new Date(d).toISOString();

/** "Who is on call" for SREs, and the dry run of a service's escalation. */
@Injectable()
export class OnCallService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly targets: TargetResolver,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private when(at?: string): Date {
    return at ? new Date(at) : this.clock.now();
  }

  /** Whom each step of the service's policy would page at `at`. */
  async forService(serviceId: string, at?: string) {
    const when = this.when(at);
    const service = await this.service(serviceId);
    return { serviceId, serviceName: service.name, at: iso(when), ...(await this.steps(service, when)) };
  }

  /** The team's schedules and services: who is on call on each. */
  async forTeam(teamId: string, at?: string) {
    const when = this.when(at);
    const [team] = await queryRows<{ id: string; name: string }>(this.db, 'SELECT id, name FROM teams WHERE id = $1', [teamId]);
    if (!team) throw new NotFoundError('Team', teamId);
    const scheduleIds = await queryRows<{ id: string }>(this.db, 'SELECT id FROM schedules WHERE team_id = $1 ORDER BY lower(name), id', [teamId]);
    const services = await queryRows<{ id: string }>(this.db, 'SELECT id FROM services WHERE team_id = $1 ORDER BY lower(name), id', [teamId]);
    return {
      teamId,
      teamName: team.name,
      at: iso(when),
      schedules: await this.schedulesOnCall(
        scheduleIds.map((s) => s.id),
        when,
      ),
      services: await Promise.all(
        services.map(async (s) => {
          const row = await this.service(s.id);
          return { serviceId: s.id, serviceName: row.name, ...(await this.steps(row, when)) };
        }),
      ),
    };
  }

  /** Every schedule's on-call user at `at`. */
  async everywhere(at?: string) {
    const when = this.when(at);
    const ids = await queryRows<{ id: string }>(this.db, 'SELECT id FROM schedules ORDER BY lower(name), id');
    return {
      at: iso(when),
      schedules: await this.schedulesOnCall(
        ids.map((s) => s.id),
        when,
      ),
    };
  }

  /**
   * If this service triggered at `at` and nobody acknowledged: who would be paged, when, by which
   * step, following the engine's rules (a step with nobody moves on at once; low urgency stops
   * after the first page; a maintenance window holds the first page until it ends).
   */
  async dryRun(serviceId: string, at?: string) {
    const start = this.when(at);
    const service = await this.service(serviceId);
    const urgency = urgencyAt(service.urgency_rule, start);
    const [maintenance] = await queryRows<{ until: Date | null }>(
      this.db,
      'SELECT max(ends_at) AS until FROM maintenance_windows WHERE $1 = ANY(service_ids) AND starts_at <= $2 AND ends_at > $2',
      [serviceId, start],
    );
    const heldUntil = maintenance?.until ? new Date(maintenance.until) : null;
    const base = { serviceId, serviceName: service.name, triggeredAt: iso(start), urgency, maintenanceUntil: heldUntil ? iso(heldUntil) : null };
    if (!service.policy_id)
      return {
        ...base,
        policy: null,
        pages: [],
        exhaustedAt: iso(heldUntil ?? start),
        notes: ['The service has no escalation policy: nobody would be paged.'],
      };

    const policy: PolicySnapshot = { id: service.policy_id, name: service.policy_name!, repeatCount: service.repeat_count!, steps: service.steps! };
    const pages: { step: number; loop: number; at: string; targets: TargetView[]; users: PagedUser[]; nobodyOnCall: boolean }[] = [];
    const notes: string[] = [];
    if (heldUntil) notes.push(`The service is in maintenance until ${iso(heldUntil)}: the first page waits until then.`);
    let t = heldUntil ?? start;
    let pos: Position | null = { step: 0, loop: 0 };
    let exhaustedAt: string | null = null;
    for (let guard = 0; pos && guard <= totalFirings(policy); guard++) {
      const step = policy.steps[pos.step]!;
      const resolved = await this.targets.resolveEach(this.db, step.targets, t);
      const users = dedupe(resolved.flatMap((r) => r.users));
      // Steps are numbered from 1, as the timeline and the messages number them.
      pages.push({ step: pos.step + 1, loop: pos.loop, at: iso(t), targets: resolved.map(targetView), users, nobodyOnCall: users.length === 0 });
      if (users.length && urgency === 'low') {
        notes.push('Low urgency: after this page escalation waits for someone to escalate by hand.');
        break;
      }
      if (users.length) t = new Date(t.getTime() + step.delayMinutes * 60_000);
      pos = nextPosition(policy, pos);
      if (!pos) exhaustedAt = iso(t);
    }
    return { ...base, policy: { id: policy.id, name: policy.name, repeatCount: policy.repeatCount }, pages, exhaustedAt, notes };
  }

  private async steps(service: ServiceRow, when: Date) {
    if (!service.policy_id) return { policy: null, steps: [] };
    const steps = await Promise.all(
      service.steps!.map(async (step, i) => {
        const resolved = await this.targets.resolveEach(this.db, step.targets, when);
        return { step: i + 1, delayMinutes: step.delayMinutes, targets: resolved.map(targetView), users: dedupe(resolved.flatMap((r) => r.users)) };
      }),
    );
    return { policy: { id: service.policy_id, name: service.policy_name }, steps };
  }

  private async schedulesOnCall(ids: string[], when: Date) {
    const schedules = await loadSchedules(this.db, ids, when, new Date(when.getTime() + 1));
    const onCall = new Map(ids.map((id) => [id, schedules.get(id) ? onCallAt(schedules.get(id)!.spec, when.getTime()) : null]));
    const users = await usersById(
      this.db,
      [...onCall.values()].filter((u): u is string => u !== null),
    );
    return ids
      .filter((id) => schedules.has(id))
      .map((id) => {
        const userId = onCall.get(id);
        return { scheduleId: id, scheduleName: schedules.get(id)!.row.name, user: userId ? (users.get(userId) ?? null) : null };
      });
  }

  private async service(id: string): Promise<ServiceRow> {
    const [row] = await queryRows<ServiceRow>(
      this.db,
      `SELECT s.id, s.name, s.team_id, s.urgency_rule, p.id AS policy_id, p.name AS policy_name, p.repeat_count, p.steps
       FROM services s LEFT JOIN escalation_policies p ON p.id = s.escalation_policy_id WHERE s.id = $1`,
      [id],
    );
    if (!row) throw new NotFoundError('Service', id);
    return row;
  }
}

interface TargetView {
  type: ResolvedTarget['target']['type'];
  id: string;
  name: string | null;
  users: PagedUser[];
}

function targetView(r: ResolvedTarget): TargetView {
  return { type: r.target.type, id: r.target.id, name: r.name, users: r.users };
}

function dedupe(users: PagedUser[]): PagedUser[] {
  return [...new Map(users.map((u) => [u.id, u])).values()];
}
