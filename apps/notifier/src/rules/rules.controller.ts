import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { assertSelfOrAdmin } from '../contact-methods/access.js';
import { UserId } from '../directory/users.js';
import { RulesInput, RulesService, Urgency, type NotificationRules } from './rules.service.js';

/** Who gets which contact method when: e.g. push at 0, SMS at 1, voice at 3 minutes after a page. */
@Controller('api/v1/users/:userId/notification-rules')
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @Get()
  @Roles('viewer')
  get(@Param('userId', { schema: UserId }) userId: string, @CurrentPrincipal() p: Principal): Promise<NotificationRules> {
    assertSelfOrAdmin(p, userId);
    return this.rules.get(userId);
  }

  /** Replaces the rules for one urgency (high or low). An empty list means the default. */
  @Put(':urgency')
  @Roles('responder')
  replace(
    @Param('userId', { schema: UserId }) userId: string,
    @Param('urgency', { schema: Urgency }) urgency: 'high' | 'low',
    @Body({ schema: RulesInput }) body: RulesInput,
    @CurrentPrincipal() p: Principal,
  ): Promise<NotificationRules> {
    assertSelfOrAdmin(p, userId);
    return this.rules.replace(userId, urgency, body);
  }
}
