import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { EscalationEngine } from './engine.js';

/** What oncall does when an incident changes. */
@Controller()
export class IncidentEventsController {
  constructor(private readonly engine: EscalationEngine) {}

  @OnEvent('incident.triggered')
  async onIncidentTriggered(@Payload() data: EventData<'incident.triggered'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.start(ctx.manager, data);
  }

  @OnEvent('incident.acknowledged')
  async onIncidentAcknowledged(@Payload() data: EventData<'incident.acknowledged'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.stop(ctx.manager, data.incidentId);
  }

  @OnEvent('incident.resolved')
  async onIncidentResolved(@Payload() data: EventData<'incident.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    await this.engine.stop(ctx.manager, data.incidentId);
  }
}
