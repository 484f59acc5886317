import { Module } from '@nestjs/common';
import { DirectoryModule } from './directory/directory.module.js';
import { IncidentsModule } from './incidents/incidents.module.js';
import { SlaModule } from './sla/sla.module.js';

/** The incidents service: one module per capability. */
@Module({ imports: [DirectoryModule, IncidentsModule, SlaModule] })
export class AppModule {}
