import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../incidents/incident.entity.js';
import type { Grouping } from '../incidents/grouping.js';
import type { z } from 'zod';
import type { AutomaticReviews as AutomaticReviewsSchema, UrgencyRule as UrgencyRuleSchema } from '#libs/contracts';

type AutomaticReviews = z.output<typeof AutomaticReviewsSchema>;

/** The settings of a service as incidents knows them, with oncall's defaults for a service not seen yet. */
export interface ServiceSettings {
  id: string;
  name: string | null;
  teamId: string | null;
  urgencyRule: z.output<typeof UrgencyRuleSchema>;
  grouping: Grouping;
  ackTimeoutSeconds: number | null;
  autoResolveOnAlertResolve: boolean;
  autoResolveTimeoutSeconds: number | null;
  automaticReviews: AutomaticReviews;
}

interface ServiceRow {
  id: string;
  name: string;
  team_id: string | null;
  urgency_rule: z.output<typeof UrgencyRuleSchema>;
  grouping: Grouping;
  ack_timeout_seconds: number | null;
  auto_resolve_on_alert_resolve: boolean;
  auto_resolve_timeout_seconds: number | null;
  automatic_reviews: AutomaticReviews;
}

export interface Person {
  id: string;
  name: string;
  email: string;
}

/**
 * Reads incidents' copies of oncall's services, users and teams (kept by DirectoryController).
 * An alert may arrive before its service's settings do: it is then handled with oncall's defaults
 * (no grouping, high urgency, 30-minute acknowledgement timeout, auto-resolve on).
 */
@Injectable()
export class Directory {
  async service(em: EntityManager, serviceId: string): Promise<ServiceSettings> {
    const [row]: ServiceRow[] = await em.query('SELECT * FROM services WHERE id = $1', [serviceId]);
    if (!row) {
      return {
        id: serviceId,
        name: null,
        teamId: null,
        urgencyRule: { type: 'constant', urgency: 'high' },
        grouping: { mode: 'none' },
        ackTimeoutSeconds: 1800,
        autoResolveOnAlertResolve: true,
        autoResolveTimeoutSeconds: null,
        automaticReviews: 'major',
      };
    }
    return {
      id: row.id,
      name: row.name,
      teamId: row.team_id,
      urgencyRule: row.urgency_rule,
      grouping: row.grouping,
      ackTimeoutSeconds: row.ack_timeout_seconds,
      autoResolveOnAlertResolve: row.auto_resolve_on_alert_resolve,
      autoResolveTimeoutSeconds: row.auto_resolve_timeout_seconds,
      automaticReviews: row.automatic_reviews,
    };
  }

  async serviceExists(em: EntityManager, serviceId: string): Promise<boolean> {
    const rows: unknown[] = await em.query('SELECT 1 FROM services WHERE id = $1 AND NOT deleted', [serviceId]);
    return rows.length > 0;
  }

  /** An actor with the user's name filled in, so responders read "acknowledged by Dana". */
  async actor(em: EntityManager, userId: string | null, source: Actor['source']): Promise<Actor> {
    if (!userId) return { userId: null, name: null, source };
    const [row]: { name: string }[] = await em.query('SELECT name FROM users WHERE id = $1', [userId]);
    return { userId, name: row?.name ?? null, source };
  }

  /** The known, not deleted users among `ids`. */
  async people(em: EntityManager, ids: string[]): Promise<Person[]> {
    if (ids.length === 0) return [];
    return em.query('SELECT id, name, email FROM users WHERE id = ANY($1::uuid[]) AND NOT deleted ORDER BY name', [ids]);
  }
}
