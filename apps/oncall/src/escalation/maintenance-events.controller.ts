import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { OnEvent, type EventContext } from '#libs/messaging';
import { EscalationEngine } from './engine.js';

/**
 * oncall's copy of alert-ingest's maintenance windows: services in a window do not escalate. A
 * newer version never loses to an older one delivered late (updated_at from the event).
 */
@Controller()
export class MaintenanceEventsController {
  constructor(private readonly engine: EscalationEngine) {}

  @OnEvent('maintenance.upserted')
  async onMaintenanceUpserted(@Payload() w: EventData<'maintenance.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    const [before] = await queryRows<{ service_ids: string[] }>(ctx.manager, 'SELECT service_ids FROM maintenance_windows WHERE id = $1', [w.windowId]);
    await ctx.manager.query(
      `INSERT INTO maintenance_windows (id, service_ids, starts_at, ends_at, description, updated_at) VALUES ($1, $2::uuid[], $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET service_ids = EXCLUDED.service_ids, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
         description = EXCLUDED.description, updated_at = EXCLUDED.updated_at
       WHERE maintenance_windows.updated_at <= EXCLUDED.updated_at`,
      [w.windowId, w.serviceIds, w.startsAt, w.endsAt, w.description, ctx.envelope.occurredAt],
    );
    await this.engine.maintenanceChanged(ctx.manager, [...new Set([...(before?.service_ids ?? []), ...w.serviceIds])]);
  }

  @OnEvent('maintenance.deleted')
  async onMaintenanceDeleted(@Payload() w: EventData<'maintenance.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    const [gone] = await queryRows<{ service_ids: string[] }>(ctx.manager, 'DELETE FROM maintenance_windows WHERE id = $1 RETURNING service_ids', [w.windowId]);
    if (gone) await this.engine.maintenanceChanged(ctx.manager, gone.service_ids);
  }
}
