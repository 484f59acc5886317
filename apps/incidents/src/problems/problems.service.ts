import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { DomainError, NotFoundError } from '#libs/platform';
import type { Actor } from '../incidents/incident.entity.js';
import { IncidentsService } from '../incidents/incidents.service.js';
import { Timeline } from '../timeline/timeline.service.js';
import type { CreateProblemInput, ProblemStatus, UpdateProblemInput } from './problems.dto.js';

export interface Problem {
  id: string;
  number: number;
  title: string;
  description: string;
  status: ProblemStatus;
  rootCause: string;
  workaround: string;
  createdBy: Actor | null;
  createdAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
}

export interface ProblemIncident {
  id: string;
  number: number;
  title: string;
  status: string;
  priority: string;
  createdAt: Date;
}

interface ProblemRow {
  id: string;
  number: number;
  title: string;
  description: string;
  status: ProblemStatus;
  root_cause: string;
  workaround: string;
  created_by: Actor | null;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
}

const toProblem = (r: ProblemRow): Problem => ({
  id: r.id,
  number: r.number,
  title: r.title,
  description: r.description,
  status: r.status,
  rootCause: r.root_cause,
  workaround: r.workaround,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  resolvedAt: r.resolved_at,
});

/** Problem records (ITIL's problem management): the underlying cause that incidents "are caused by". */
@Injectable()
export class ProblemsService {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly timeline: Timeline,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async create(em: EntityManager, by: Actor, input: z.output<typeof CreateProblemInput>): Promise<Problem> {
    const now = this.clock.now();
    const [row]: ProblemRow[] = await em.query(
      `INSERT INTO problems (id, number, title, description, status, created_by, created_at, updated_at)
       VALUES ($1, nextval('problem_number_seq'), $2, $3, 'open', $4::jsonb, $5, $5) RETURNING *`,
      [randomUUID(), input.title, input.description, JSON.stringify(by), now],
    );
    return toProblem(row!);
  }

  async update(em: EntityManager, id: string, input: z.output<typeof UpdateProblemInput>): Promise<Problem> {
    const current = await this.get(em, id, true);
    const next = { ...current, ...input };
    const now = this.clock.now();
    const resolvedAt = next.status === 'resolved' ? (current.resolvedAt ?? now) : null;
    const [row] = await queryRows<ProblemRow>(
      em,
      `UPDATE problems SET title = $2, description = $3, status = $4, root_cause = $5, workaround = $6, resolved_at = $7, updated_at = $8 WHERE id = $1 RETURNING *`,
      [id, next.title, next.description, next.status, next.rootCause, next.workaround, resolvedAt, now],
    );
    return toProblem(row!);
  }

  async get(em: EntityManager, id: string, lock = false): Promise<Problem> {
    const [row]: ProblemRow[] = await em.query(`SELECT * FROM problems WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
    if (!row) throw new NotFoundError('Problem', id);
    return toProblem(row);
  }

  async list(em: EntityManager, status: ProblemStatus | undefined, limit: number): Promise<Problem[]> {
    const rows: ProblemRow[] = await em.query(`SELECT * FROM problems WHERE ($1::text IS NULL OR status = $1) ORDER BY number DESC LIMIT $2`, [
      status ?? null,
      limit,
    ]);
    return rows.map(toProblem);
  }

  /** The incidents caused by a problem, newest first. */
  async incidentsOf(em: EntityManager, problemId: string): Promise<ProblemIncident[]> {
    return em.query('SELECT id, number, title, status, priority, created_at AS "createdAt" FROM incidents WHERE problem_id = $1 ORDER BY number DESC', [
      problemId,
    ]);
  }

  /** Links an incident to the problem that causes it (replacing any earlier link). */
  async link(em: EntityManager, incidentId: string, problemId: string, by: Actor): Promise<void> {
    const incident = await this.incidents.lock(em, incidentId);
    const problem = await this.get(em, problemId);
    if (incident.problemId === problemId) return;
    await em.query('UPDATE incidents SET problem_id = $2, updated_at = $3 WHERE id = $1', [incidentId, problemId, this.clock.now()]);
    await this.timeline.add(em, incidentId, 'problem.linked', { problemId, number: problem.number, title: problem.title }, by);
  }

  async unlink(em: EntityManager, incidentId: string, by: Actor): Promise<void> {
    const incident = await this.incidents.lock(em, incidentId);
    if (!incident.problemId) throw new DomainError(`Incident #${incident.number} is not linked to a problem`, 404);
    await em.query('UPDATE incidents SET problem_id = NULL, updated_at = $2 WHERE id = $1', [incidentId, this.clock.now()]);
    await this.timeline.add(em, incidentId, 'problem.unlinked', { problemId: incident.problemId }, by);
  }
}
