import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { Directory } from '../directory/directory.service.js';
import { IncidentsService } from './incidents.service.js';
import { Timeline } from '../timeline/timeline.service.js';

/** Events from alert-ingest, oncall and notifier that change or annotate incidents. */
@Controller()
export class IncidentEventsController {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly directory: Directory,
    private readonly timeline: Timeline,
  ) {}

  @OnEvent('alert.triggered')
  onAlertTriggered(@Payload() e: EventData<'alert.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertTriggered(ctx.manager, e);
  }

  @OnEvent('alert.deduplicated')
  onAlertDeduplicated(@Payload() e: EventData<'alert.deduplicated'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertDeduplicated(ctx.manager, e);
  }

  @OnEvent('alert.acknowledged')
  onAlertAcknowledged(@Payload() e: EventData<'alert.acknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertAcknowledged(ctx.manager, e);
  }

  @OnEvent('alert.resolved')
  onAlertResolved(@Payload() e: EventData<'alert.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertResolved(ctx.manager, e);
  }

  /** A responder acted from their phone (SMS reply, voice key, push, email link). Late or repeated actions are no-ops. */
  @OnEvent('responder.action')
  async onResponderAction(@Payload() e: EventData<'responder.action'>, @Ctx() ctx: EventContext): Promise<void> {
    const exists: unknown[] = await ctx.manager.query('SELECT 1 FROM incidents WHERE id = $1', [e.incidentId]);
    if (!exists.length) return;
    const by = await this.directory.actor(ctx.manager, e.userId, e.source);
    if (e.action === 'acknowledge') await this.incidents.acknowledge(ctx.manager, e.incidentId, by, { quiet: true });
    else if (e.action === 'resolve') await this.incidents.resolve(ctx.manager, e.incidentId, by, { quiet: true });
    else await this.incidents.escalate(ctx.manager, e.incidentId, by, { quiet: true });
  }

  @OnEvent('escalation.step-fired')
  onStepFired(@Payload() e: EventData<'escalation.step-fired'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onStepFired(ctx.manager, e);
  }

  @OnEvent('escalation.exhausted')
  async onExhausted(@Payload() e: EventData<'escalation.exhausted'>, @Ctx() ctx: EventContext): Promise<void> {
    if (!(await this.exists(ctx, e.incidentId))) return;
    await this.timeline.add(ctx.manager, e.incidentId, 'escalation.exhausted', {});
  }

  @OnEvent('notification.status-changed')
  async onNotification(@Payload() e: EventData<'notification.status-changed'>, @Ctx() ctx: EventContext): Promise<void> {
    if (!e.incidentId) return;
    await this.timeline.addAboutPeople(
      ctx.manager,
      e.incidentId,
      `notification.${e.status}`,
      { notificationId: e.notificationId, userId: e.userId, channel: e.channel, destination: e.destination, error: e.error },
      { userId: e.userId },
    );
  }

  private async exists(ctx: EventContext, incidentId: string): Promise<boolean> {
    const rows: unknown[] = await ctx.manager.query('SELECT 1 FROM incidents WHERE id = $1', [incidentId]);
    return rows.length > 0;
  }
}
