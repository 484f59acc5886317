import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { TeamOwners } from '#libs/auth';
import { teamsFrom, uuidOf } from '#libs/platform';

/** An incident belongs to its service's team (the team it was opened under, when the service is gone). */
const INCIDENT_TEAM = `CASE WHEN s.id IS NOT NULL THEN s.team_id ELSE i.team_id END AS team_id FROM incidents i LEFT JOIN services s ON s.id = i.service_id`;

/** The team of the incident `:id` names. */
@Injectable()
export class IncidentOwners implements TeamOwners {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const id = uuidOf(req.params.id);
    return id ? teamsFrom(this.db, `SELECT ${INCIDENT_TEAM} WHERE i.id = $1`, [id]) : [];
  }
}

/** The team of the incident whose review `:id` names. */
@Injectable()
export class ReviewOwners implements TeamOwners {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const id = uuidOf(req.params.id);
    return id ? teamsFrom(this.db, `SELECT ${INCIDENT_TEAM} JOIN post_incident_reviews r ON r.incident_id = i.id WHERE r.id = $1`, [id]) : [];
  }
}

/** The team of the service `:serviceId` names (incidents' copy of oncall's services). */
@Injectable()
export class ServiceOwners implements TeamOwners {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const id = uuidOf(req.params.serviceId);
    return id ? teamsFrom(this.db, `SELECT team_id FROM services WHERE id = $1`, [id]) : [];
  }
}
