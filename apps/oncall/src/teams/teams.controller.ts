import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Roles, TeamScoped } from '#libs/auth';
import { TeamItselfOwners } from './team-owners.js';
import { z } from 'zod';
import { TeamInput } from './teams.dto.js';
import { TeamsService, type TeamView } from './teams.service.js';

const Id = z.uuid({ message: 'must be a team id (a UUID)' });

@Controller('api/v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Get()
  list(): Promise<TeamView[]> {
    return this.teams.list();
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<TeamView> {
    return this.teams.get(id);
  }

  @Post()
  create(@Body({ schema: TeamInput }) body: TeamInput): Promise<TeamView> {
    return this.teams.create(body);
  }

  /** Replaces the team, members included. */
  @Put(':id')
  @TeamScoped(TeamItselfOwners, 'manager')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: TeamInput }) body: TeamInput): Promise<TeamView> {
    return this.teams.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    return this.teams.remove(id);
  }
}
