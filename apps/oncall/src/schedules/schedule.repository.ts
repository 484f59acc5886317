import type { EntityManager } from 'typeorm';
import { queryRows } from '#libs/database';
import type { LayerSpec, ScheduleSpec } from './domain/spec.js';

export interface ScheduleRow {
  id: string;
  name: string;
  description: string;
  time_zone: string;
  team_id: string | null;
  layers: LayerSpec[];
  created_at: Date;
  updated_at: Date;
}

export interface OverrideRow {
  id: string;
  schedule_id: string;
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
}

type Db = Pick<EntityManager, 'query'>;

/**
 * Schedules as the schedule maths wants them: rows plus the overrides overlapping a window, in
 * the order they were made (a later override wins). One read for the schedules, one for the overrides.
 */
export async function loadSchedules(db: Db, ids: string[], from: Date, to: Date): Promise<Map<string, { row: ScheduleRow; spec: ScheduleSpec }>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, { row: ScheduleRow; spec: ScheduleSpec }>();
  if (!unique.length) return out;
  const rows = await queryRows<ScheduleRow>(db, 'SELECT * FROM schedules WHERE id = ANY($1::uuid[])', [unique]);
  const overrides = await overridesOverlapping(db, unique, from, to);
  for (const row of rows) {
    out.set(row.id, {
      row,
      spec: {
        timeZone: row.time_zone,
        layers: row.layers,
        overrides: overrides
          .filter((o) => o.schedule_id === row.id)
          .map((o) => ({ userId: o.user_id, start: o.starts_at.getTime(), end: o.ends_at.getTime() })),
      },
    });
  }
  return out;
}

export function overridesOverlapping(db: Db, scheduleIds: string[], from: Date, to: Date): Promise<OverrideRow[]> {
  return queryRows<OverrideRow>(
    db,
    `SELECT * FROM schedule_overrides
     WHERE schedule_id = ANY($1::uuid[]) AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)
     ORDER BY created_at, id`,
    [scheduleIds, from, to],
  );
}

export interface UserRef {
  id: string;
  name: string;
  email: string;
}

export async function usersById(db: Db, ids: Iterable<string>): Promise<Map<string, UserRef>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await queryRows<UserRef>(db, 'SELECT id, name, email FROM users WHERE id = ANY($1::uuid[])', [unique]);
  return new Map(rows.map((r) => [r.id, r]));
}
