import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';

/**
 * Keeps incidents' own copies of what it needs from oncall's directory: service settings
 * (grouping, acknowledgement timeout, auto-resolve, urgency), users (names on actors, stakeholder
 * emails) and teams (analytics per team), so it never reads oncall's tables. Older events never
 * overwrite newer ones (`updated_at`).
 */
@Controller()
export class DirectoryController {
  @OnEvent('service.upserted')
  async onServiceUpserted(@Payload() s: EventData<'service.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, team_id, urgency_rule, grouping, ack_timeout_seconds, auto_resolve_on_alert_resolve, auto_resolve_timeout_seconds,
                             automatic_reviews, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $10, $9)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, team_id = EXCLUDED.team_id, urgency_rule = EXCLUDED.urgency_rule,
         grouping = EXCLUDED.grouping, ack_timeout_seconds = EXCLUDED.ack_timeout_seconds,
         auto_resolve_on_alert_resolve = EXCLUDED.auto_resolve_on_alert_resolve,
         auto_resolve_timeout_seconds = EXCLUDED.auto_resolve_timeout_seconds, automatic_reviews = EXCLUDED.automatic_reviews, deleted = false, updated_at = EXCLUDED.updated_at
       WHERE services.updated_at <= EXCLUDED.updated_at`,
      [
        s.serviceId,
        s.name,
        s.teamId,
        JSON.stringify(s.urgencyRule),
        JSON.stringify(s.grouping),
        s.ackTimeoutSeconds,
        s.autoResolveOnAlertResolve,
        s.autoResolveTimeoutSeconds,
        ctx.envelope.occurredAt,
        s.automaticReviews,
      ],
    );
  }

  @OnEvent('service.deleted')
  async onServiceDeleted(@Payload() s: EventData<'service.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query('UPDATE services SET deleted = true, updated_at = $2 WHERE id = $1', [s.serviceId, ctx.envelope.occurredAt]);
  }

  @OnEvent('user.upserted')
  async onUserUpserted(@Payload() u: EventData<'user.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO users (id, name, email, time_zone, role, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, time_zone = EXCLUDED.time_zone,
         role = EXCLUDED.role, deleted = false, updated_at = EXCLUDED.updated_at
       WHERE users.updated_at <= EXCLUDED.updated_at`,
      [u.userId, u.name, u.email, u.timeZone, u.role, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('user.deleted')
  async onUserDeleted(@Payload() u: EventData<'user.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query('UPDATE users SET deleted = true, updated_at = $2 WHERE id = $1', [u.userId, ctx.envelope.occurredAt]);
  }

  @OnEvent('team.upserted')
  async onTeamUpserted(@Payload() t: EventData<'team.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO teams (id, name, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, deleted = false, updated_at = EXCLUDED.updated_at
       WHERE teams.updated_at <= EXCLUDED.updated_at`,
      [t.teamId, t.name, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('team.deleted')
  async onTeamDeleted(@Payload() t: EventData<'team.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query('UPDATE teams SET deleted = true, updated_at = $2 WHERE id = $1', [t.teamId, ctx.envelope.occurredAt]);
  }
}
