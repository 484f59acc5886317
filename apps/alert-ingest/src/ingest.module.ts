import { Module } from '@nestjs/common';
import { AlertsService } from './alerts/alerts.service.js';
import { IntegrationsController } from './integrations/integrations.controller.js';
import { IntegrationsService } from './integrations/integrations.service.js';
import { EventsV2Controller } from './pagerduty/events-v2.controller.js';

@Module({
  controllers: [IntegrationsController, EventsV2Controller],
  providers: [IntegrationsService, AlertsService],
})
export class IngestModule {}
