import { Controller, Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { OnEvent, type EventContext } from '#libs/messaging';
import type { Request } from 'express';
import type { TeamOwners } from '#libs/auth';
import { InvalidInputError, untilArrived, uuidOf, uuidsOf } from '#libs/platform';

/** How long a window naming a service alert-ingest has not heard of waits for oncall's directory event. */
const ARRIVAL_WAIT_MS = 5000;

/** alert-ingest's copy of oncall's services (the directory topic), for checking what people name. */
@Controller()
export class ServicesDirectoryController {
  @OnEvent('service.upserted')
  async onServiceUpserted(@Payload() s: EventData<'service.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, team_id, deleted, updated_at) VALUES ($1, $2, $3, false, $4)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, team_id = EXCLUDED.team_id, deleted = false, updated_at = EXCLUDED.updated_at
       WHERE services.updated_at <= EXCLUDED.updated_at`,
      [s.serviceId, s.name, s.teamId, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('service.deleted')
  async onServiceDeleted(@Payload() s: EventData<'service.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, deleted, updated_at) VALUES ($1, '', true, $2)
       ON CONFLICT (id) DO UPDATE SET deleted = true, updated_at = EXCLUDED.updated_at WHERE services.updated_at <= EXCLUDED.updated_at`,
      [s.serviceId, ctx.envelope.occurredAt],
    );
  }
}

@Injectable()
export class KnownServices {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Throws a 400 naming the services that are neither in oncall's directory nor receiving alerts
   * here (have an integration). A service created a moment ago is waited for (up to 5 s).
   */
  async require(serviceIds: string[]): Promise<void> {
    let unknown: string[] = [];
    const allKnown = await untilArrived(async () => {
      const known = await queryRows<{ id: string }>(
        this.db,
        `SELECT id FROM services WHERE id = ANY($1::uuid[]) AND NOT deleted
         UNION SELECT service_id FROM integrations WHERE service_id = ANY($1::uuid[])`,
        [serviceIds],
      );
      unknown = serviceIds.filter((id) => !known.some((k) => k.id === id));
      return unknown.length === 0 ? true : undefined;
    }, ARRIVAL_WAIT_MS);
    if (!allKnown) throw new InvalidInputError(`Unknown service${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (services are created in oncall)`);
  }
}

/**
 * The teams owning services, from alert-ingest's copy of oncall's services. A service not heard of
 * yet is waited for (up to 5 s, as KnownServices does); one that never arrives belongs to no team.
 */
@Injectable()
export class ServiceTeams {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async of(serviceIds: string[]): Promise<(string | null)[]> {
    let rows: { id: string; team_id: string | null }[] = [];
    await untilArrived(async () => {
      rows = await queryRows<{ id: string; team_id: string | null }>(this.db, `SELECT id, team_id FROM services WHERE id = ANY($1::uuid[])`, [serviceIds]);
      return rows.length === new Set(serviceIds).size ? true : undefined;
    }, ARRIVAL_WAIT_MS);
    return serviceIds.map((id) => rows.find((r) => r.id === id)?.team_id ?? null);
  }
}

/** POST /api/v1/integrations: the team of the service the body names. */
@Injectable()
export class NewIntegrationOwners implements TeamOwners {
  constructor(private readonly teams: ServiceTeams) {}

  async ownersOf(req: Request): Promise<(string | null)[]> {
    const id = uuidOf((req.body as { serviceId?: unknown } | undefined)?.serviceId);
    return id ? this.teams.of([id]) : [];
  }
}

/** The team of the service of the row `:id` names in a table with a service_id column. */
abstract class OwnersByRowService implements TeamOwners {
  protected abstract readonly table: 'integrations' | 'alerts';

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly teams: ServiceTeams,
  ) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const id = uuidOf(req.params.id);
    if (!id) return [];
    const [row] = await queryRows<{ service_id: string }>(this.db, `SELECT service_id FROM ${this.table} WHERE id = $1`, [id]);
    return row ? this.teams.of([row.service_id]) : null;
  }
}

/** /api/v1/integrations/:id: the team of the integration's service. */
@Injectable()
export class IntegrationOwners extends OwnersByRowService {
  protected readonly table = 'integrations';
}

/** Maintenance windows: the teams of the services the window holds now and those the body names. */
@Injectable()
export class MaintenanceOwners implements TeamOwners {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly teams: ServiceTeams,
  ) {}

  async ownersOf(req: Request): Promise<(string | null)[] | null> {
    const named = uuidsOf((req.body as { serviceIds?: unknown } | undefined)?.serviceIds);
    const id = req.params.id;
    if (id === undefined) return this.teams.of(named);
    if (!uuidOf(id)) return [];
    const [row] = await queryRows<{ service_ids: string[] }>(this.db, 'SELECT service_ids FROM maintenance_windows WHERE id = $1', [id]);
    return row ? this.teams.of([...new Set([...row.service_ids, ...named])]) : null;
  }
}

/** POST /api/v1/alerts/:id/resolve: the team of the alert's service. */
@Injectable()
export class AlertOwners extends OwnersByRowService {
  protected readonly table = 'alerts';
}
