import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { NotificationsService } from '../notifications/notifications.service.js';

type Status = 'triggered' | 'acknowledged' | 'resolved' | 'snoozed';

/**
 * notifier's small copy of each incident's state, from incidents' events: enough to answer a reply
 * ("#12 was already acknowledged by Dana") and to drop a page that went stale. Acknowledging,
 * resolving or snoozing cancels whatever notifier still had waiting for the incident.
 */
@Controller()
export class IncidentEventsController {
  constructor(private readonly notifications: NotificationsService) {}

  @OnEvent('incident.triggered')
  async onTriggered(@Payload() e: EventData<'incident.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.record(ctx.manager, e, 'triggered', null, e.triggeredAt, e.title);
  }

  @OnEvent('incident.unacknowledged')
  async onUnacknowledged(@Payload() e: EventData<'incident.unacknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.record(ctx.manager, e, 'triggered', e.by, e.unacknowledgedAt);
  }

  @OnEvent('incident.acknowledged')
  async onAcknowledged(@Payload() e: EventData<'incident.acknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.record(ctx.manager, e, 'acknowledged', e.by, e.acknowledgedAt);
    await this.notifications.cancelForIncident(ctx.manager, e.incidentId);
    await this.notifications.onIncidentChanged(ctx.manager, {
      incidentId: e.incidentId,
      number: e.number,
      status: 'acknowledged',
      byUserId: e.by.userId,
      byName: e.by.name,
    });
  }

  @OnEvent('incident.snoozed')
  async onSnoozed(@Payload() e: EventData<'incident.snoozed'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.record(ctx.manager, e, 'snoozed', e.by, ctx.envelope.occurredAt);
    await this.notifications.cancelForIncident(ctx.manager, e.incidentId);
  }

  @OnEvent('incident.resolved')
  async onResolved(@Payload() e: EventData<'incident.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.record(ctx.manager, e, 'resolved', e.by, e.resolvedAt);
    await this.notifications.cancelForIncident(ctx.manager, e.incidentId);
    await this.notifications.onIncidentChanged(ctx.manager, {
      incidentId: e.incidentId,
      number: e.number,
      status: 'resolved',
      byUserId: e.by.userId,
      byName: e.by.name ?? (e.by.source === 'monitor' ? 'the monitoring tool' : null),
    });
  }

  private async record(
    em: EntityManager,
    e: { incidentId: string; number: number },
    status: Status,
    by: { userId: string | null; name: string | null } | null,
    at: string,
    title?: string,
  ): Promise<void> {
    await em.query(
      `INSERT INTO incidents (id, number, title, status, changed_by_user_id, changed_by_name, changed_at) VALUES ($1, $2, coalesce($3, ''), $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number, title = coalesce($3, incidents.title), status = EXCLUDED.status,
         changed_by_user_id = EXCLUDED.changed_by_user_id, changed_by_name = EXCLUDED.changed_by_name, changed_at = EXCLUDED.changed_at`,
      [e.incidentId, e.number, title ?? null, status, by?.userId ?? null, by?.name ?? null, at],
    );
  }
}
