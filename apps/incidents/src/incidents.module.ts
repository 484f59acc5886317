import { Module } from '@nestjs/common';
import { DirectoryController } from './directory/directory.controller.js';
import { IncidentEventsController } from './incidents/incident-events.controller.js';
import { IncidentsController } from './incidents/incidents.controller.js';
import { IncidentsService } from './incidents/incidents.service.js';

@Module({
  controllers: [IncidentsController, IncidentEventsController, DirectoryController],
  providers: [IncidentsService],
})
export class IncidentsModule {}
