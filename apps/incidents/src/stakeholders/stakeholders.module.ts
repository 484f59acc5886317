import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module.js';
import { IncidentsModule } from '../incidents/incidents.module.js';
import { TimelineModule } from '../timeline/timeline.module.js';
import { StakeholdersController } from './stakeholders.controller.js';
import { StakeholdersService } from './stakeholders.service.js';

/** People informed of incidents (never paged), and the updates sent to them. */
@Module({ imports: [DirectoryModule, IncidentsModule, TimelineModule], controllers: [StakeholdersController], providers: [StakeholdersService] })
export class StakeholdersModule {}
