import { Module } from '@nestjs/common';
import { FeedsController } from './feeds.controller.js';
import { FeedsService } from './feeds.js';
import { SchedulesController } from './schedules.controller.js';
import { SchedulesService } from './schedules.service.js';

@Module({ controllers: [SchedulesController, FeedsController], providers: [SchedulesService, FeedsService] })
export class SchedulesModule {}
