import { Module } from '@nestjs/common';
import { AlertStates } from './alerts/alert-states.js';
import { AlertWriter } from './alerts/alert-writer.js';
import { IncidentEventsController } from './alerts/incident-events.controller.js';
import {
  AlertOwners,
  IntegrationOwners,
  KnownServices,
  MaintenanceOwners,
  NewIntegrationOwners,
  ServiceTeams,
  ServicesDirectoryController,
} from './directory/services.js';
import { AlertsController } from './alerts/alerts.controller.js';
import { AlertsQueries } from './alerts/alerts.queries.js';
import { DedupReports } from './alerts/dedup-reports.js';
import { IngestService } from './alerts/ingest.service.js';
import { Retention } from './alerts/retention.js';
import { CloudWatchController } from './cloudwatch/cloudwatch.controller.js';
import { SnsFetcher } from './cloudwatch/sns-fetcher.js';
import { ChangeEventsController } from './changes/change-events.controller.js';
import { ChangeEventsService } from './changes/change-events.service.js';
import { HeartbeatPingController, HeartbeatsController } from './heartbeats/heartbeats.controller.js';
import { HeartbeatsService } from './heartbeats/heartbeats.service.js';
import { IntegrationKeys } from './integrations/integration-keys.js';
import { IntegrationsController } from './integrations/integrations.controller.js';
import { IntegrationsService } from './integrations/integrations.service.js';
import { MaintenanceController } from './maintenance/maintenance.controller.js';
import { MaintenanceService } from './maintenance/maintenance.service.js';
import { OpsgenieController } from './opsgenie/alert-api.controller.js';
import { EventsV1Controller } from './pagerduty/events-v1.controller.js';
import { EventsV2Controller } from './pagerduty/events-v2.controller.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

@Module({
  controllers: [
    IntegrationsController,
    AlertsController,
    IncidentEventsController,
    ServicesDirectoryController,
    MaintenanceController,
    HeartbeatsController,
    ChangeEventsController,
    EventsV2Controller,
    EventsV1Controller,
    OpsgenieController,
    WebhooksController,
    HeartbeatPingController,
    CloudWatchController,
  ],
  providers: [
    IntegrationsService,
    IntegrationKeys,
    AlertWriter,
    AlertStates,
    KnownServices,
    ServiceTeams,
    NewIntegrationOwners,
    IntegrationOwners,
    MaintenanceOwners,
    AlertOwners,
    IngestService,
    AlertsQueries,
    DedupReports,
    HeartbeatsService,
    MaintenanceService,
    ChangeEventsService,
    SnsFetcher,
    Retention,
  ],
})
export class IngestModule {}
