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
}
