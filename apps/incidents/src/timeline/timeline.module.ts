import { Module } from '@nestjs/common';
import { Timeline } from './timeline.service.js';

@Module({ providers: [Timeline], exports: [Timeline] })
export class TimelineModule {}
