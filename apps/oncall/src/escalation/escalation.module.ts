import { Module } from '@nestjs/common';
import { EscalationEngine } from './engine.js';
import { IncidentEventsController } from './incident-events.controller.js';
import { MaintenanceEventsController } from './maintenance-events.controller.js';
import { OnCallController } from './on-call.controller.js';
import { OnCallService } from './on-call.service.js';
import { PoliciesController } from './policies.controller.js';
import { PoliciesService } from './policies.service.js';
import { TargetResolver } from './targets.js';

@Module({
  controllers: [PoliciesController, OnCallController, IncidentEventsController, MaintenanceEventsController],
  providers: [PoliciesService, TargetResolver, EscalationEngine, OnCallService],
})
export class EscalationModule {}
