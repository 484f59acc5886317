import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { NotificationsService } from '../notifications/notifications.service.js';

/** notifier's own copy of the people it pages, kept from oncall's user events. */
@Controller()
export class DirectoryController {
  constructor(private readonly notifications: NotificationsService) {}

  @OnEvent('user.upserted')
  async onUserUpserted(@Payload() u: EventData<'user.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO users (id, name, email, time_zone, deleted, updated_at) VALUES ($1, $2, $3, $4, false, $5)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, time_zone = EXCLUDED.time_zone,
         deleted = false, updated_at = EXCLUDED.updated_at
       WHERE users.updated_at <= EXCLUDED.updated_at`,
      [u.userId, u.name, u.email, u.timeZone, ctx.envelope.occurredAt],
    );
  }

  /** A deleted user is paged no more: their contact methods, rules and pending messages go. */
  @OnEvent('user.deleted')
  async onUserDeleted(@Payload() u: EventData<'user.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query('UPDATE users SET deleted = true, updated_at = $2 WHERE id = $1', [u.userId, ctx.envelope.occurredAt]);
    await ctx.manager.query('DELETE FROM contact_methods WHERE user_id = $1', [u.userId]);
    await this.notifications.cancelForUser(ctx.manager, u.userId);
  }
}
