import { Module } from '@nestjs/common';
import { TeamsController } from './teams.controller.js';
import { TeamsService } from './teams.service.js';
import { PolicyOwners, ScheduleOwners, ServiceOwners, TeamItselfOwners } from './team-owners.js';

@Module({ controllers: [TeamsController], providers: [TeamsService, ServiceOwners, ScheduleOwners, PolicyOwners, TeamItselfOwners], exports: [TeamsService] })
export class TeamsModule {}
