import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module.js';
import { TimelineModule } from '../timeline/timeline.module.js';
import { SlaController } from './sla.controller.js';
import { SlaService } from './sla.service.js';

/** SLA goals per service and priority, and each incident's SLA clocks. */
@Module({ imports: [DirectoryModule, TimelineModule], controllers: [SlaController], providers: [SlaService], exports: [SlaService] })
export class SlaModule {}
