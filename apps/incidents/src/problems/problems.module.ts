import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module.js';
import { IncidentsModule } from '../incidents/incidents.module.js';
import { TimelineModule } from '../timeline/timeline.module.js';
import { ProblemsController } from './problems.controller.js';
import { ProblemsService } from './problems.service.js';

/** Problem records and the incidents they cause. */
@Module({ imports: [DirectoryModule, IncidentsModule, TimelineModule], controllers: [ProblemsController], providers: [ProblemsService] })
export class ProblemsModule {}
