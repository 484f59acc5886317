import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';

/**
 * Keeps incidents' own copy of the service settings it needs (grouping, acknowledgement timeout,
 * auto-resolve, urgency), so it never reads oncall's tables.
 */
@Controller()
export class DirectoryController {
  @OnEvent('service.upserted')
  async onServiceUpserted(@Payload() s: EventData<'service.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, team_id, urgency_rule, grouping, ack_timeout_seconds, auto_resolve_on_alert_resolve, auto_resolve_timeout_seconds, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, team_id = EXCLUDED.team_id, urgency_rule = EXCLUDED.urgency_rule,
         grouping = EXCLUDED.grouping, ack_timeout_seconds = EXCLUDED.ack_timeout_seconds,
         auto_resolve_on_alert_resolve = EXCLUDED.auto_resolve_on_alert_resolve,
         auto_resolve_timeout_seconds = EXCLUDED.auto_resolve_timeout_seconds, updated_at = EXCLUDED.updated_at
       WHERE services.updated_at <= EXCLUDED.updated_at`,
      [s.serviceId, s.name, s.teamId, JSON.stringify(s.urgencyRule), JSON.stringify(s.grouping), s.ackTimeoutSeconds, s.autoResolveOnAlertResolve, s.autoResolveTimeoutSeconds, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('service.deleted')
  async onServiceDeleted(@Payload() s: EventData<'service.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query('UPDATE services SET deleted = true, updated_at = $2 WHERE id = $1', [s.serviceId, ctx.envelope.occurredAt]);
  }
}
