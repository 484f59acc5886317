import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import type { Actor } from '../incidents/incident.entity.js';

/**
 * The append-only log of everything that happened to an incident. Entries are written in the
 * transaction of the change they record, so the timeline never disagrees with the incident.
 */
@Injectable()
export class Timeline {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  async add(em: EntityManager, incidentId: string, kind: string, details: Record<string, unknown> = {}, actor: Actor | null = null, at?: Date): Promise<void> {
    await this.addMany(em, incidentId, [{ kind, details, actor }], at);
  }

  /** Several entries in one statement, in the order given. */
  async addMany(
    em: EntityManager,
    incidentId: string,
    entries: { kind: string; details?: Record<string, unknown>; actor?: Actor | null }[],
    at?: Date,
  ): Promise<void> {
    const params: unknown[] = [incidentId, at ?? this.clock.now()];
    const rows = entries.map((e) => {
      params.push(e.kind, e.actor ? JSON.stringify(e.actor) : null, JSON.stringify(e.details ?? {}));
      const n = params.length;
      return `($1, $2, $${n - 2}, $${n - 1}::jsonb, $${n}::jsonb)`;
    });
    // bigserial ids follow the VALUES order, which keeps the entries' order on the timeline.
    await em.query(`INSERT INTO timeline (incident_id, at, kind, actor, details) VALUES ${rows.join(', ')}`, params);
  }

  /**
   * An entry about another service's event, written only if the incident is known here, with the
   * people named as the directory knows them (`name` for one user, `names` for a step's users;
   * deleted users left out): one statement for the look-ups and the insert.
   */
  async addAboutPeople(
    em: EntityManager,
    incidentId: string,
    kind: string,
    details: Record<string, unknown>,
    people: { userId: string | null } | { userIds: string[] },
  ): Promise<void> {
    const [field, ids] = 'userId' in people ? ['name', people.userId ? [people.userId] : []] : ['names', people.userIds];
    await em.query(
      `INSERT INTO timeline (incident_id, at, kind, actor, details)
       SELECT i.id, $2, $3, NULL, $4::jsonb || CASE WHEN $5 = 'name'
           THEN jsonb_build_object('name', (SELECT name FROM users WHERE id = ANY($6::uuid[]) AND NOT deleted LIMIT 1))
           ELSE jsonb_build_object('names', (SELECT coalesce(jsonb_agg(name ORDER BY name), '[]'::jsonb) FROM users WHERE id = ANY($6::uuid[]) AND NOT deleted))
         END
       FROM incidents i WHERE i.id = $1`,
      [incidentId, this.clock.now(), kind, JSON.stringify(details), field, ids],
    );
  }
}
