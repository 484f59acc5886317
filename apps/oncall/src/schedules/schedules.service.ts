import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { ConflictError, InvalidInputError, NotFoundError } from '#libs/platform';
import { newFeedToken } from '../common/feed-tokens.js';
import { coverageGaps, finalSchedule, shiftAt } from './domain/final-schedule.js';
import { layerShifts } from './domain/rotation.js';
import { compileSchedule, type Shift } from './domain/spec.js';
import { DAY } from './domain/wall-clock.js';
import { loadSchedules, overridesOverlapping, usersById, type OverrideRow, type ScheduleRow, type UserRef } from './schedule.repository.js';
import type { OverrideInput, RangeQuery, ScheduleInput } from './schedules.dto.js';

export interface ScheduleView {
  id: string;
  name: string;
  description: string;
  timeZone: string;
  teamId: string | null;
  layers: ScheduleInput['layers'];
  createdAt: string;
  updatedAt: string;
}

export interface ShiftView {
  userId: string;
  userName: string | null;
  start: string;
  end: string;
}

export interface OverrideView {
  id: string;
  scheduleId: string;
  userId: string;
  start: string;
  end: string;
  createdAt: string;
}

const iso = (ms: number | Date): string => new Date(ms).toISOString();

@Injectable()
export class SchedulesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(teamId?: string): Promise<ScheduleView[]> {
    const rows = await queryRows<ScheduleRow>(
      this.db,
      `SELECT * FROM schedules ${teamId ? 'WHERE team_id = $1' : ''} ORDER BY lower(name), id`,
      teamId ? [teamId] : [],
    );
    return rows.map(toView);
  }

  async get(id: string): Promise<ScheduleView> {
    return toView(await this.row(this.db, id));
  }

  create(input: ScheduleInput): Promise<ScheduleView> {
    return this.db.transaction(async (em) => {
      await this.assertReferences(em, input);
      const [row] = await queryRows<ScheduleRow>(
        em,
        `INSERT INTO schedules (id, name, description, time_zone, team_id, layers, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $7) RETURNING *`,
        [randomUUID(), input.name, input.description, input.timeZone, input.teamId, JSON.stringify(input.layers), this.clock.now()],
      );
      return toView(row!);
    });
  }

  update(id: string, input: ScheduleInput): Promise<ScheduleView> {
    return this.db.transaction(async (em) => {
      await this.row(em, id, true);
      await this.assertReferences(em, input);
      const [row] = await queryRows<ScheduleRow>(
        em,
        `UPDATE schedules SET name = $2, description = $3, time_zone = $4, team_id = $5, layers = $6::jsonb, updated_at = $7 WHERE id = $1 RETURNING *`,
        [id, input.name, input.description, input.timeZone, input.teamId, JSON.stringify(input.layers), this.clock.now()],
      );
      return toView(row!);
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      await this.row(em, id, true);
      const policies = await queryRows<{ name: string }>(
        em,
        `SELECT name FROM escalation_policies WHERE jsonb_path_exists(steps, '$[*].targets[*] ? (@.type == "schedule" && @.id == $id)', jsonb_build_object('id', $1::text)) ORDER BY name LIMIT 5`,
        [id],
      );
      if (policies.length) {
        throw new ConflictError(
          `Schedule ${id} is a target of escalation policies ${policies.map((p) => `"${p.name}"`).join(', ')}; remove it from their steps first`,
        );
      }
      await em.query('DELETE FROM schedules WHERE id = $1', [id]);
    });
  }

  /** The final schedule for [from, to), each layer's own shifts, the overrides and the gaps. */
  async final(id: string, range: RangeQuery) {
    const { from, to } = this.range(range, 7);
    const { row, spec } = (await loadSchedules(this.db, [id], from, to)).get(id) ?? this.notFound(id);
    const compiled = compileSchedule(spec);
    const f = from.getTime();
    const t = to.getTime();
    const final = finalSchedule(compiled, f, t);
    const layers = compiled.layers.map((l, i) => ({ name: row.layers[i]!.name, shifts: layerShifts(l, compiled.zone, f, t) }));
    const overrides = await overridesOverlapping(this.db, [id], from, to);
    const users = await usersById(
      this.db,
      [...final, ...layers.flatMap((l) => l.shifts)].map((s) => s.userId),
    );
    return {
      scheduleId: id,
      timeZone: row.time_zone,
      from: iso(from),
      to: iso(to),
      shifts: final.map((s) => shiftView(s, users)),
      layers: layers.map((l) => ({ name: l.name, shifts: l.shifts.map((s) => shiftView(s, users)) })),
      overrides: overrides.map(overrideView),
      gaps: coverageGaps(compiled, f, t).map((g) => ({ start: iso(g.start), end: iso(g.end) })),
    };
  }

  /** Who is on call at an instant, with the bounds of their shift. */
  async onCall(id: string, at?: string) {
    const when = at ? new Date(at) : this.clock.now();
    const horizon = 35 * DAY;
    const { row, spec } =
      (await loadSchedules(this.db, [id], new Date(when.getTime() - horizon), new Date(when.getTime() + horizon))).get(id) ?? this.notFound(id);
    const shift = shiftAt(spec, when.getTime(), horizon);
    const users = await usersById(this.db, shift ? [shift.userId] : []);
    return { scheduleId: id, scheduleName: row.name, timeZone: row.time_zone, at: iso(when), onCall: shift ? shiftView(shift, users) : null };
  }

  /** Times with nobody on call from now for `days` days. */
  async gaps(id: string, days: number, since?: string) {
    const from = since ? new Date(since) : this.clock.now();
    const to = new Date(from.getTime() + days * DAY);
    const { spec } = (await loadSchedules(this.db, [id], from, to)).get(id) ?? this.notFound(id);
    return {
      scheduleId: id,
      from: iso(from),
      to: iso(to),
      gaps: coverageGaps(spec, from.getTime(), to.getTime()).map((g) => ({ start: iso(g.start), end: iso(g.end) })),
    };
  }

  async listOverrides(id: string, range: RangeQuery): Promise<OverrideView[]> {
    await this.row(this.db, id);
    const { from, to } = this.range(range, 30);
    return (await overridesOverlapping(this.db, [id], from, to)).map(overrideView);
  }

  createOverride(id: string, input: OverrideInput): Promise<OverrideView> {
    return this.db.transaction(async (em) => {
      await this.row(em, id, true);
      const users = await usersById(em, [input.userId]);
      if (!users.has(input.userId)) throw new InvalidInputError(`User ${input.userId} does not exist`);
      const [clash] = await queryRows<OverrideRow>(
        em,
        `SELECT * FROM schedule_overrides WHERE schedule_id = $1 AND user_id = $2 AND tstzrange(starts_at, ends_at) && tstzrange($3, $4) LIMIT 1`,
        [id, input.userId, input.start, input.end],
      );
      if (clash) {
        throw new InvalidInputError(
          `${users.get(input.userId)!.name} already has an override on this schedule from ${iso(clash.starts_at)} to ${iso(clash.ends_at)} (${clash.id}); change or delete that one instead`,
        );
      }
      const [row] = await queryRows<OverrideRow>(
        em,
        `INSERT INTO schedule_overrides (id, schedule_id, user_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [randomUUID(), id, input.userId, input.start, input.end],
      );
      return overrideView(row!);
    });
  }

  async removeOverride(id: string, overrideId: string): Promise<void> {
    const rows = await queryRows(this.db, 'DELETE FROM schedule_overrides WHERE id = $1 AND schedule_id = $2 RETURNING 1', [overrideId, id]);
    if (!rows.length) throw new NotFoundError('Override', overrideId);
  }

  /** A new secret feed URL for the schedule; the previous one stops working. */
  async rotateFeedToken(id: string): Promise<string> {
    const { token, hash } = newFeedToken();
    const rows = await queryRows(this.db, 'UPDATE schedules SET feed_token_hash = $2 WHERE id = $1 RETURNING 1', [id, hash]);
    if (!rows.length) throw new NotFoundError('Schedule', id);
    return token;
  }

  private range(q: RangeQuery, defaultDays: number): { from: Date; to: Date } {
    const from = q.from ? new Date(q.from) : this.clock.now();
    const to = q.to ? new Date(q.to) : new Date(from.getTime() + defaultDays * DAY);
    if (to <= from) throw new InvalidInputError('to must be after from');
    return { from, to };
  }

  private async row(em: Pick<EntityManager, 'query'>, id: string, lock = false): Promise<ScheduleRow> {
    const [row] = await queryRows<ScheduleRow>(em, `SELECT * FROM schedules WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
    return row ?? this.notFound(id);
  }

  private notFound(id: string): never {
    throw new NotFoundError('Schedule', id);
  }

  private async assertReferences(em: EntityManager, input: ScheduleInput): Promise<void> {
    if (input.teamId) {
      const [team] = await em.query('SELECT 1 FROM teams WHERE id = $1', [input.teamId]);
      if (!team) throw new InvalidInputError(`Team ${input.teamId} does not exist`);
    }
    const ids = [...new Set(input.layers.flatMap((l) => l.participants))];
    const users = await usersById(em, ids);
    const missing = ids.filter((u) => !users.has(u));
    if (missing.length) throw new InvalidInputError(`Unknown participant${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}; add them as users first`);
  }
}

function toView(r: ScheduleRow): ScheduleView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    timeZone: r.time_zone,
    teamId: r.team_id,
    layers: r.layers,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function shiftView(s: Shift, users: Map<string, UserRef>): ShiftView {
  return { userId: s.userId, userName: users.get(s.userId)?.name ?? null, start: iso(s.start), end: iso(s.end) };
}

function overrideView(o: OverrideRow): OverrideView {
  return { id: o.id, scheduleId: o.schedule_id, userId: o.user_id, start: iso(o.starts_at), end: iso(o.ends_at), createdAt: iso(o.created_at) };
}
