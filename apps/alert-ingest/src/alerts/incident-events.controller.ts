import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { AlertStates } from './alert-states.js';

/** Incident events alert-ingest honours: an incident resolved anywhere resolves its alerts. */
@Controller()
export class IncidentEventsController {
  constructor(private readonly states: AlertStates) {}

  @OnEvent('incident.resolved')
  onIncidentResolved(@Payload() e: EventData<'incident.resolved'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.states.onIncidentResolved(ctx.manager, e);
  }
}
