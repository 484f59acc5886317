import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { EscalationEngine } from './engine.js';

/** What oncall does when an incident changes. */
@Controller()
export class IncidentEventsController {
  constructor(private readonly engine: EscalationEngine) {}

  /** New, or triggered again (acknowledgement timed out, snooze ended, reopened): a new round of escalation. */
  @OnEvent('incident.triggered')
  async onIncidentTriggered(@Payload() data: EventData<'incident.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.start(ctx.manager, data);
  }

  @OnEvent('incident.acknowledged')
  async onIncidentAcknowledged(@Payload() data: EventData<'incident.acknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.stop(ctx.manager, data.incidentId);
  }

  /** Escalation pauses; incidents publishes incident.triggered (reason snooze-expired) when the snooze ends. */
  @OnEvent('incident.snoozed')
  async onIncidentSnoozed(@Payload() data: EventData<'incident.snoozed'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.stop(ctx.manager, data.incidentId);
  }

  @OnEvent('incident.resolved')
  async onIncidentResolved(@Payload() data: EventData<'incident.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.stop(ctx.manager, data.incidentId);
  }

  @OnEvent('incident.escalate-requested')
  async onEscalateRequested(@Payload() data: EventData<'incident.escalate-requested'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.escalate(ctx.manager, data.incidentId);
  }

  @OnEvent('incident.reassigned')
  async onIncidentReassigned(@Payload() data: EventData<'incident.reassigned'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.reassign(ctx.manager, data, ctx.envelope.id);
  }
}
