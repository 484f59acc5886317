import { Module } from '@nestjs/common';
import { EscalationEngine } from './escalation/engine.js';
import { IncidentEventsController } from './escalation/incident-events.controller.js';
import { PoliciesController } from './escalation/policies.controller.js';
import { PoliciesService } from './escalation/policies.service.js';
import { TargetResolver } from './escalation/targets.js';
import { ServicesController } from './services/services.controller.js';
import { ServicesService } from './services/services.service.js';
import { UsersController } from './users/users.controller.js';
import { UsersService } from './users/users.service.js';

@Module({
  controllers: [UsersController, ServicesController, PoliciesController, IncidentEventsController],
  providers: [UsersService, ServicesService, PoliciesService, TargetResolver, EscalationEngine],
})
export class OncallModule {}
