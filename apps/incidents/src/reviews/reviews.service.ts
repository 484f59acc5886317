import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { ConflictError, InvalidInputError, NotFoundError } from '#libs/platform';
import { Directory } from '../directory/directory.service.js';
import type { Actor, Incident } from '../incidents/incident.entity.js';
import { IncidentsService, type ResolutionHook } from '../incidents/incidents.service.js';
import { needsReview } from '../incidents/lifecycle.js';
import { Timeline } from '../timeline/timeline.service.js';
import type { ActionItemInput, ReviewStatus, UpdateActionItemInput, UpdateReviewInput } from './reviews.dto.js';

export interface ActionItem {
  id: string;
  description: string;
  ownerId: string | null;
  ownerName: string | null;
  dueDate: string | null;
  status: 'open' | 'done';
  createdAt: Date;
  updatedAt: Date;
}

export interface Review {
  id: string;
  incidentId: string;
  incidentNumber: number;
  incidentTitle: string;
  status: ReviewStatus;
  whatHappened: string;
  impact: string;
  rootCause: string;
  ownerId: string | null;
  ownerName: string | null;
  createdAutomatically: boolean;
  createdAt: Date;
  updatedAt: Date;
  actionItems: ActionItem[];
}

interface ReviewRow {
  id: string;
  incident_id: string;
  number: number;
  title: string;
  status: ReviewStatus;
  what_happened: string;
  impact: string;
  root_cause: string;
  owner_user_id: string | null;
  owner_name: string | null;
  created_automatically: boolean;
  created_at: Date;
  updated_at: Date;
}

const SELECT_REVIEW = `
  SELECT r.*, i.number, i.title, u.name AS owner_name
  FROM post_incident_reviews r JOIN incidents i ON i.id = r.incident_id LEFT JOIN users u ON u.id = r.owner_user_id`;

/**
 * Post-incident reviews: what happened, the impact, the root cause, and action items with owners
 * and due dates. Created automatically, in the resolving transaction, when a major or P1/P2
 * incident resolves (and when a resolved incident is declared major); by hand for any other.
 */
@Injectable()
export class ReviewsService implements OnModuleInit, ResolutionHook {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly directory: Directory,
    private readonly timeline: Timeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.incidents.addResolutionHook(this);
  }

  async onResolved(em: EntityManager, incident: Incident, by: Actor): Promise<void> {
    if (!needsReview(incident, (await this.directory.service(em, incident.serviceId)).automaticReviews)) return;
    // The owner: whoever resolved it, else the people it was assigned to.
    const owner = by.userId ?? incident.assignees[0] ?? null;
    await this.insert(em, incident, owner, true);
  }

  async create(em: EntityManager, incidentId: string, by: Actor): Promise<Review> {
    const incident = await this.incidents.lock(em, incidentId);
    const id = await this.insert(em, incident, by.userId, false);
    if (!id) throw new ConflictError(`Incident #${incident.number} already has a post-incident review`);
    return this.get(em, id);
  }

  /** Inserts the incident's review unless it has one; returns its id when created. */
  private async insert(em: EntityManager, incident: Incident, ownerId: string | null, automatic: boolean): Promise<string | null> {
    const id = randomUUID();
    const now = this.clock.now();
    const rows: unknown[] = await em.query(
      `INSERT INTO post_incident_reviews (id, incident_id, status, owner_user_id, created_automatically, created_at, updated_at)
       VALUES ($1, $2, 'draft', $3, $4, $5, $5) ON CONFLICT (incident_id) DO NOTHING RETURNING 1`,
      [id, incident.id, ownerId, automatic, now],
    );
    if (!rows.length) return null;
    await this.timeline.add(em, incident.id, 'review.created', { reviewId: id, automatic }, automatic ? { userId: null, name: null, source: 'system' } : null);
    return id;
  }

  async get(em: EntityManager, id: string): Promise<Review> {
    const [row]: ReviewRow[] = await em.query(`${SELECT_REVIEW} WHERE r.id = $1`, [id]);
    if (!row) throw new NotFoundError('Post-incident review', id);
    return (await this.withItems(em, [row]))[0]!;
  }

  async getForIncident(em: EntityManager, incidentId: string): Promise<Review> {
    const incident = await this.incidents.get(em, incidentId);
    const [row]: ReviewRow[] = await em.query(`${SELECT_REVIEW} WHERE r.incident_id = $1`, [incidentId]);
    if (!row) throw new NotFoundError('Post-incident review of incident', `#${incident.number}`);
    return (await this.withItems(em, [row]))[0]!;
  }

  async list(em: EntityManager, status: ReviewStatus | undefined, limit: number): Promise<Review[]> {
    const rows: ReviewRow[] = await em.query(`${SELECT_REVIEW} WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.created_at DESC, r.id LIMIT $2`, [
      status ?? null,
      limit,
    ]);
    return this.withItems(em, rows);
  }

  async update(em: EntityManager, id: string, input: UpdateReviewInput, by: Actor): Promise<Review> {
    const [current]: ReviewRow[] = await em.query('SELECT * FROM post_incident_reviews WHERE id = $1 FOR UPDATE', [id]);
    if (!current) throw new NotFoundError('Post-incident review', id);
    if (input.ownerId) await this.requireUser(em, input.ownerId);
    const next = {
      status: input.status ?? current.status,
      whatHappened: input.whatHappened ?? current.what_happened,
      impact: input.impact ?? current.impact,
      rootCause: input.rootCause ?? current.root_cause,
      ownerId: input.ownerId === undefined ? current.owner_user_id : input.ownerId,
    };
    if (next.status === 'published' && current.status !== 'published') {
      const missing = (['whatHappened', 'impact', 'rootCause'] as const).filter((k) => !next[k].trim());
      if (missing.length) throw new ConflictError(`Fill in ${missing.join(', ')} before publishing the review`);
    }
    await em.query(
      'UPDATE post_incident_reviews SET status = $2, what_happened = $3, impact = $4, root_cause = $5, owner_user_id = $6, updated_at = $7 WHERE id = $1',
      [id, next.status, next.whatHappened, next.impact, next.rootCause, next.ownerId, this.clock.now()],
    );
    if (next.status !== current.status) await this.timeline.add(em, current.incident_id, `review.${next.status}`, { reviewId: id }, by);
    return this.get(em, id);
  }

  async addActionItem(em: EntityManager, reviewId: string, input: ActionItemInput): Promise<ActionItem> {
    await this.get(em, reviewId);
    if (input.ownerId) await this.requireUser(em, input.ownerId);
    const id = randomUUID();
    const now = this.clock.now();
    await em.query(
      `INSERT INTO review_action_items (id, review_id, description, owner_user_id, due_date, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)`,
      [id, reviewId, input.description, input.ownerId, input.dueDate, now],
    );
    return (await this.items(em, [reviewId])).find((i) => i.id === id)!;
  }

  async updateActionItem(em: EntityManager, reviewId: string, itemId: string, input: UpdateActionItemInput): Promise<ActionItem> {
    if (input.ownerId) await this.requireUser(em, input.ownerId);
    const sets: string[] = [];
    const params: unknown[] = [itemId, reviewId];
    const set = (column: string, value: unknown): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (input.description !== undefined) set('description', input.description);
    if (input.ownerId !== undefined) set('owner_user_id', input.ownerId);
    if (input.dueDate !== undefined) set('due_date', input.dueDate);
    if (input.status !== undefined) set('status', input.status);
    set('updated_at', this.clock.now());
    const rows = await queryRows(em, `UPDATE review_action_items SET ${sets.join(', ')} WHERE id = $1 AND review_id = $2 RETURNING 1`, params);
    if (!rows.length) throw new NotFoundError('Action item', itemId);
    return (await this.items(em, [reviewId])).find((i) => i.id === itemId)!;
  }

  async removeActionItem(em: EntityManager, reviewId: string, itemId: string): Promise<void> {
    const rows = await queryRows(em, 'DELETE FROM review_action_items WHERE id = $1 AND review_id = $2 RETURNING 1', [itemId, reviewId]);
    if (!rows.length) throw new NotFoundError('Action item', itemId);
  }

  private async requireUser(em: EntityManager, userId: string): Promise<void> {
    if (!(await this.directory.people(em, [userId])).length) throw new InvalidInputError(`Unknown user: ${userId}`);
  }

  private async items(em: EntityManager, reviewIds: string[]): Promise<(ActionItem & { reviewId: string })[]> {
    const rows: {
      id: string;
      review_id: string;
      description: string;
      owner_user_id: string | null;
      owner_name: string | null;
      due_date: string | null;
      status: 'open' | 'done';
      created_at: Date;
      updated_at: Date;
    }[] = await em.query(
      `SELECT a.*, to_char(a.due_date, 'YYYY-MM-DD') AS due_date, u.name AS owner_name FROM review_action_items a LEFT JOIN users u ON u.id = a.owner_user_id
         WHERE a.review_id = ANY($1::uuid[]) ORDER BY a.created_at, a.id`,
      [reviewIds],
    );
    return rows.map((r) => ({
      id: r.id,
      reviewId: r.review_id,
      description: r.description,
      ownerId: r.owner_user_id,
      ownerName: r.owner_name,
      dueDate: r.due_date,
      status: r.status,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  private async withItems(em: EntityManager, rows: ReviewRow[]): Promise<Review[]> {
    const items = await this.items(
      em,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({
      id: r.id,
      incidentId: r.incident_id,
      incidentNumber: r.number,
      incidentTitle: r.title,
      status: r.status,
      whatHappened: r.what_happened,
      impact: r.impact,
      rootCause: r.root_cause,
      ownerId: r.owner_user_id,
      ownerName: r.owner_name,
      createdAutomatically: r.created_automatically,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      actionItems: items.filter((i) => i.reviewId === r.id).map(({ reviewId: _, ...item }) => item),
    }));
  }
}
