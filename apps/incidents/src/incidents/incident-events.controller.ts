import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { IncidentsService } from './incidents.service.js';

/** Events from alert-ingest, oncall and notifier that change or annotate incidents. */
@Controller()
export class IncidentEventsController {
  constructor(private readonly incidents: IncidentsService) {}

  @OnEvent('alert.triggered')
  onAlertTriggered(@Payload() e: EventData<'alert.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertTriggered(ctx.manager, e);
  }

  @OnEvent('alert.acknowledged')
  onAlertAcknowledged(@Payload() e: EventData<'alert.acknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertAcknowledged(ctx.manager, e);
  }

  @OnEvent('alert.resolved')
  onAlertResolved(@Payload() e: EventData<'alert.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.incidents.onAlertResolved(ctx.manager, e);
  }

  @OnEvent('responder.action')
  async onResponderAction(@Payload() e: EventData<'responder.action'>, @Ctx() ctx: EventContext): Promise<void> {
    const by = { userId: e.userId, name: null, source: e.source };
    if (e.action === 'acknowledge') await this.incidents.acknowledge(ctx.manager, e.incidentId, by, { quiet: true });
    else if (e.action === 'resolve') await this.incidents.resolve(ctx.manager, e.incidentId, by, { quiet: true });
  }

  @OnEvent('escalation.step-fired')
  async onStepFired(@Payload() e: EventData<'escalation.step-fired'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.incidents.addTimeline(ctx.manager, e.incidentId, e.nobodyOnCall ? 'escalation.nobody-on-call' : 'escalation.step-fired', {
      step: e.step + 1,
      loop: e.loop,
      userIds: e.userIds,
    });
  }

  @OnEvent('escalation.exhausted')
  async onExhausted(@Payload() e: EventData<'escalation.exhausted'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.incidents.addTimeline(ctx.manager, e.incidentId, 'escalation.exhausted', {});
  }

  @OnEvent('notification.status-changed')
  async onNotification(@Payload() e: EventData<'notification.status-changed'>, @Ctx() ctx: EventContext): Promise<void> {
    if (!e.incidentId) return;
    await this.incidents.addTimeline(ctx.manager, e.incidentId, `notification.${e.status}`, {
      notificationId: e.notificationId,
      userId: e.userId,
      channel: e.channel,
      destination: e.destination,
      error: e.error,
    });
  }
}
