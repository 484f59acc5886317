import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { clampSummary } from '../alerts/normalized.js';
import { queryRows } from '#libs/database';
import type { KeyedIntegration } from '../integrations/integration-keys.js';
import { cleanJson } from '../alerts/sanitize.js';
import { parseTimestamp, type ChangeEvent } from '../pagerduty/events-v2.js';

export interface ChangeEventView {
  id: string;
  serviceId: string;
  integrationId: string;
  summary: string;
  source: string | null;
  occurredAt: string;
  receivedAt: string;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
}

/** PagerDuty change events: context for responders ("what was deployed just before?"), never a page. */
@Injectable()
export class ChangeEventsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async record(integration: KeyedIntegration, raw: ChangeEvent): Promise<string> {
    const e = cleanJson(raw, 'change event');
    const id = randomUUID();
    const now = this.clock.now();
    await this.db.query(
      `INSERT INTO change_events (id, service_id, integration_id, summary, source, occurred_at, received_at, details, links)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)`,
      [
        id,
        integration.serviceId,
        integration.id,
        clampSummary(e.payload.summary),
        e.payload.source || null,
        (e.payload.timestamp && parseTimestamp(e.payload.timestamp)) || now,
        now,
        JSON.stringify(e.payload.custom_details ?? {}),
        JSON.stringify(e.links ?? []),
      ],
    );
    return id;
  }

  list(serviceId: string | undefined, limit: number): Promise<ChangeEventView[]> {
    return queryRows<ChangeEventView>(
      this.db,
      `SELECT id, service_id AS "serviceId", integration_id AS "integrationId", summary, source, occurred_at AS "occurredAt", received_at AS "receivedAt", details, links
       FROM change_events ${serviceId ? 'WHERE service_id = $2' : ''} ORDER BY occurred_at DESC LIMIT $1`,
      serviceId ? [limit, serviceId] : [limit],
    );
  }
}
