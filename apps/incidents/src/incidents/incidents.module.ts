import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module.js';
import { SlaModule } from '../sla/sla.module.js';
import { TimelineModule } from '../timeline/timeline.module.js';
import { IncidentEventsController } from './incident-events.controller.js';
import { IncidentQueries } from './incident-queries.service.js';
import { IncidentsController } from './incidents.controller.js';
import { IncidentsService } from './incidents.service.js';

/** The incident lifecycle: from alerts, commands from the API and phones, timers. */
@Module({
  imports: [DirectoryModule, TimelineModule, SlaModule],
  controllers: [IncidentsController, IncidentEventsController],
  providers: [IncidentsService, IncidentQueries],
  exports: [IncidentsService, IncidentQueries],
})
export class IncidentsModule {}
