import { Module } from '@nestjs/common';
import { DirectoryModule } from '../directory/directory.module.js';
import { IncidentsModule } from '../incidents/incidents.module.js';
import { TimelineModule } from '../timeline/timeline.module.js';
import { ReviewsController } from './reviews.controller.js';
import { ReviewsService } from './reviews.service.js';

/** Post-incident reviews and their action items. */
@Module({ imports: [DirectoryModule, IncidentsModule, TimelineModule], controllers: [ReviewsController], providers: [ReviewsService] })
export class ReviewsModule {}
