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
    await em.query('INSERT INTO timeline (incident_id, at, kind, actor, details) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)', [
      incidentId,
      at ?? this.clock.now(),
      kind,
      actor ? JSON.stringify(actor) : null,
      JSON.stringify(details),
    ]);
  }
}
