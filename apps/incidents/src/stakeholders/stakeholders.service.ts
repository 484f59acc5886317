import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { Outbox } from '#libs/messaging';
import { ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError } from '#libs/platform';
import { Directory } from '../directory/directory.service.js';
import type { Actor } from '../incidents/incident.entity.js';
import { IncidentsService } from '../incidents/incidents.service.js';
import { Timeline } from '../timeline/timeline.service.js';
import type { StakeholderInput, StakeholderUpdateInput } from './stakeholders.dto.js';

/** Who can be emailed about one incident or service, and how often: an update is not a way to mail anyone, without end. */
export const MAX_STAKEHOLDERS = 100;
export const MAX_UPDATES_PER_HOUR = 12;

export interface Stakeholder {
  id: string;
  /** Where the stakeholder was added: on this incident, or on its service (informed of all its incidents). */
  scope: 'incident' | 'service';
  userId: string | null;
  name: string | null;
  email: string;
  addedAt: Date;
}

export interface StakeholderUpdate {
  id: string;
  incidentId: string;
  summary: string;
  message: string;
  recipients: { email: string; name: string | null }[];
  sentBy: Actor;
  createdAt: Date;
}

interface StakeholderRow {
  id: string;
  user_id: string | null;
  email: string | null;
  name: string | null;
  added_at: Date;
  user_email: string | null;
  user_name: string | null;
  user_deleted: boolean | null;
}

type Owner = { table: 'incident_stakeholders'; column: 'incident_id'; id: string } | { table: 'service_stakeholders'; column: 'service_id'; id: string };
const incidentOwner = (id: string): Owner => ({ table: 'incident_stakeholders', column: 'incident_id', id });
const serviceOwner = (id: string): Owner => ({ table: 'service_stakeholders', column: 'service_id', id });

/**
 * Stakeholders are informed, never paged: people added to one incident, or to a service (told
 * about each of its incidents). A stakeholder update is recorded, written on the timeline and
 * published with its recipients' addresses; notifier emails them.
 */
@Injectable()
export class StakeholdersService {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly directory: Directory,
    private readonly timeline: Timeline,
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  // ---- per incident -------------------------------------------------------------------------------

  async listForIncident(em: EntityManager, incidentId: string): Promise<Stakeholder[]> {
    const incident = await this.incidents.get(em, incidentId);
    return [...(await this.list(em, incidentOwner(incidentId), 'incident')), ...(await this.list(em, serviceOwner(incident.serviceId), 'service'))];
  }

  async addToIncident(em: EntityManager, incidentId: string, by: Actor, input: StakeholderInput): Promise<Stakeholder> {
    await this.incidents.lock(em, incidentId);
    const added = await this.add(em, incidentOwner(incidentId), input, `incident`);
    await this.timeline.add(em, incidentId, 'stakeholder.added', { stakeholderId: added.id, name: added.name, email: added.email }, by);
    return added;
  }

  async removeFromIncident(em: EntityManager, incidentId: string, stakeholderId: string, by: Actor): Promise<void> {
    await this.incidents.lock(em, incidentId);
    const removed = await this.remove(em, incidentOwner(incidentId), stakeholderId);
    await this.timeline.add(em, incidentId, 'stakeholder.removed', { stakeholderId, name: removed.name, email: removed.email }, by);
  }

  // ---- per service --------------------------------------------------------------------------------

  async listForService(em: EntityManager, serviceId: string): Promise<Stakeholder[]> {
    await this.requireService(em, serviceId);
    return this.list(em, serviceOwner(serviceId), 'service');
  }

  async addToService(em: EntityManager, serviceId: string, input: StakeholderInput): Promise<Stakeholder> {
    await this.requireService(em, serviceId);
    return this.add(em, serviceOwner(serviceId), input, 'service');
  }

  async removeFromService(em: EntityManager, serviceId: string, stakeholderId: string): Promise<void> {
    await this.requireService(em, serviceId);
    await this.remove(em, serviceOwner(serviceId), stakeholderId);
  }

  // ---- updates ------------------------------------------------------------------------------------

  /** Sends an update to everyone informed of the incident (its own and its service's stakeholders, each address once). */
  async sendUpdate(em: EntityManager, incidentId: string, by: Actor, input: StakeholderUpdateInput): Promise<StakeholderUpdate> {
    const incident = await this.incidents.lock(em, incidentId);
    const [recent] = await queryRows<{ n: number }>(em, 'SELECT count(*)::int AS n FROM stakeholder_updates WHERE incident_id = $1 AND created_at > $2', [
      incidentId,
      new Date(this.clock.now().getTime() - 3_600_000),
    ]);
    if (recent!.n >= MAX_UPDATES_PER_HOUR) {
      throw new TooManyRequestsError(
        `${MAX_UPDATES_PER_HOUR} updates were sent for incident #${incident.number} in the last hour; stakeholders are not emailed more often`,
      );
    }
    const recipients = dedupe(await this.listForIncident(em, incidentId));
    if (recipients.length === 0) {
      throw new ConflictError(
        `Incident #${incident.number} has no stakeholders yet: add some to the incident (POST /api/v1/incidents/${incidentId}/stakeholders) or to its service`,
      );
    }
    const now = this.clock.now();
    const update: StakeholderUpdate = { id: randomUUID(), incidentId, summary: input.summary, message: input.message, recipients, sentBy: by, createdAt: now };
    await em.query(
      'INSERT INTO stakeholder_updates (id, incident_id, summary, message, recipients, sent_by, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)',
      [update.id, incidentId, update.summary, update.message, JSON.stringify(recipients), JSON.stringify(by), now],
    );
    await this.timeline.add(em, incidentId, 'stakeholder-update.sent', { updateId: update.id, summary: update.summary, recipients: recipients.length }, by);
    await this.outbox.publish(em, 'stakeholder-update.requested', incidentId, {
      incidentId,
      number: incident.number,
      serviceId: incident.serviceId,
      updateId: update.id,
      title: incident.title,
      summary: update.summary,
      message: update.message,
      recipients,
      requestedAt: now.toISOString(),
    });
    return update;
  }

  async listUpdates(em: EntityManager, incidentId: string): Promise<StakeholderUpdate[]> {
    await this.incidents.get(em, incidentId);
    const rows: {
      id: string;
      incident_id: string;
      summary: string;
      message: string;
      recipients: StakeholderUpdate['recipients'];
      sent_by: Actor;
      created_at: Date;
    }[] = await em.query('SELECT * FROM stakeholder_updates WHERE incident_id = $1 ORDER BY created_at DESC, id', [incidentId]);
    return rows.map((r) => ({
      id: r.id,
      incidentId: r.incident_id,
      summary: r.summary,
      message: r.message,
      recipients: r.recipients,
      sentBy: r.sent_by,
      createdAt: r.created_at,
    }));
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private async list(em: EntityManager, owner: Owner, scope: Stakeholder['scope']): Promise<Stakeholder[]> {
    const rows: StakeholderRow[] = await em.query(
      `SELECT s.id, s.user_id, s.email, s.name, s.added_at, u.email AS user_email, u.name AS user_name, u.deleted AS user_deleted
       FROM ${owner.table} s LEFT JOIN users u ON u.id = s.user_id WHERE s.${owner.column} = $1 ORDER BY s.added_at, s.id`,
      [owner.id],
    );
    // A user deleted from the directory is no longer informed.
    return rows
      .filter((r) => !r.user_id || (r.user_email && !r.user_deleted))
      .map((r) => ({
        id: r.id,
        scope,
        userId: r.user_id,
        name: r.user_id ? r.user_name : r.name,
        email: (r.user_id ? r.user_email : r.email)!,
        addedAt: r.added_at,
      }));
  }

  private async add(em: EntityManager, owner: Owner, input: StakeholderInput, scope: Stakeholder['scope']): Promise<Stakeholder> {
    let person: { userId: string | null; name: string | null; email: string };
    if ('userId' in input) {
      const [user] = await this.directory.people(em, [input.userId]);
      if (!user) throw new InvalidInputError(`Unknown user: ${input.userId}`);
      person = { userId: user.id, name: user.name, email: user.email };
    } else {
      person = { userId: null, name: input.name, email: input.email };
    }
    const [{ n } = { n: 0 }] = await queryRows<{ n: number }>(em, `SELECT count(*)::int AS n FROM ${owner.table} WHERE ${owner.column} = $1`, [owner.id]);
    if (n >= MAX_STAKEHOLDERS) throw new ConflictError(`This ${scope} has ${MAX_STAKEHOLDERS} stakeholders already, the most it can have; remove some first`);
    const id = randomUUID();
    const now = this.clock.now();
    const inserted: unknown[] = await em.query(
      `INSERT INTO ${owner.table} (id, ${owner.column}, user_id, email, name, added_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1`,
      [id, owner.id, person.userId, person.userId ? null : person.email, person.userId ? null : person.name, now],
    );
    if (!inserted.length) throw new ConflictError(`${person.name ?? person.email} is already a stakeholder of this ${scope}`);
    return { id, scope, ...person, addedAt: now };
  }

  private async remove(em: EntityManager, owner: Owner, stakeholderId: string): Promise<{ name: string | null; email: string | null }> {
    const [row] = await queryRows<{ user_id: string | null; email: string | null; name: string | null }>(
      em,
      `DELETE FROM ${owner.table} WHERE id = $1 AND ${owner.column} = $2 RETURNING user_id, email, name`,
      [stakeholderId, owner.id],
    );
    if (!row) throw new NotFoundError('Stakeholder', stakeholderId);
    if (!row.user_id) return { name: row.name, email: row.email };
    const [user] = await this.directory.people(em, [row.user_id]);
    return { name: user?.name ?? null, email: user?.email ?? null };
  }

  private async requireService(em: EntityManager, serviceId: string): Promise<void> {
    if (!(await this.directory.serviceExists(em, serviceId)))
      throw new NotFoundError('Service', `${serviceId} (services created in oncall appear here within seconds)`);
  }
}

/** Each address once (case-insensitive), the first name given for it kept. */
export function dedupe(stakeholders: Pick<Stakeholder, 'email' | 'name'>[]): { email: string; name: string | null }[] {
  const seen = new Map<string, { email: string; name: string | null }>();
  for (const s of stakeholders) if (!seen.has(s.email.toLowerCase())) seen.set(s.email.toLowerCase(), { email: s.email, name: s.name });
  return [...seen.values()];
}
