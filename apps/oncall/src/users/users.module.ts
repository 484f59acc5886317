import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({ imports: [TeamsModule], controllers: [UsersController], providers: [UsersService] })
export class UsersModule {}
