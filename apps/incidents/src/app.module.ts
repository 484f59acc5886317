import { Module } from '@nestjs/common';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { DirectoryModule } from './directory/directory.module.js';
import { IncidentsModule } from './incidents/incidents.module.js';
import { ProblemsModule } from './problems/problems.module.js';
import { ReviewsModule } from './reviews/reviews.module.js';
import { SlaModule } from './sla/sla.module.js';
import { StakeholdersModule } from './stakeholders/stakeholders.module.js';

/** The incidents service: one module per capability. */
@Module({ imports: [DirectoryModule, IncidentsModule, SlaModule, StakeholdersModule, ProblemsModule, ReviewsModule, AnalyticsModule] })
export class AppModule {}
