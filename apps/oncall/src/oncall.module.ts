import { Module } from '@nestjs/common';
import { EscalationModule } from './escalation/escalation.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { ServicesModule } from './services/services.module.js';
import { TeamsModule } from './teams/teams.module.js';
import { UsersModule } from './users/users.module.js';

/** oncall: people and teams, services, schedules, escalation policies and the escalation engine. */
@Module({ imports: [UsersModule, TeamsModule, ServicesModule, SchedulesModule, EscalationModule] })
export class OncallModule {}
