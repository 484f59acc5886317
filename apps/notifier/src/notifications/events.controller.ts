import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventData } from '#libs/contracts';
import { OnEvent, type EventContext } from '#libs/messaging';
import { NotificationsService } from './notifications.service.js';

@Controller()
export class NotificationEventsController {
  constructor(private readonly notifications: NotificationsService) {}

  @OnEvent('page.requested')
  onPageRequested(@Payload() page: EventData<'page.requested'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.notifications.onPageRequested(ctx.manager, page);
  }

  @OnEvent('stakeholder-update.requested')
  onStakeholderUpdate(@Payload() update: EventData<'stakeholder-update.requested'>, @Ctx() ctx: EventContext): Promise<void> {
    return this.notifications.onStakeholderUpdate(ctx.manager, update);
  }
}
