import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { IncidentOwners } from '../directory/team-owners.js';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { Commands } from '../directory/commands.js';
import { IncidentId } from '../incidents/incidents.dto.js';
import { CreateProblemInput, LinkProblemInput, ListProblemsQuery, ProblemId, UpdateProblemInput } from './problems.dto.js';
import { ProblemsService, type Problem, type ProblemIncident } from './problems.service.js';

@Controller('api/v1')
export class ProblemsController {
  constructor(
    private readonly problems: ProblemsService,
    private readonly commands: Commands,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Post('problems')
  @Roles('responder')
  create(@Body({ schema: CreateProblemInput }) body: z.output<typeof CreateProblemInput>, @CurrentPrincipal() p: Principal): Promise<Problem> {
    return this.commands.run(p, (em, by) => this.problems.create(em, by, body));
  }

  @Get('problems')
  list(@Query({ schema: ListProblemsQuery }) q: z.output<typeof ListProblemsQuery>): Promise<Problem[]> {
    return this.problems.list(this.db.manager, q.status, q.limit);
  }

  /** A problem and the incidents it causes. */
  @Get('problems/:id')
  async get(@Param('id', { schema: ProblemId }) id: string): Promise<Problem & { incidents: ProblemIncident[] }> {
    const problem = await this.problems.get(this.db.manager, id);
    return { ...problem, incidents: await this.problems.incidentsOf(this.db.manager, id) };
  }

  @Patch('problems/:id')
  @Roles('responder')
  update(@Param('id', { schema: ProblemId }) id: string, @Body({ schema: UpdateProblemInput }) body: z.output<typeof UpdateProblemInput>): Promise<Problem> {
    return this.db.transaction((em) => this.problems.update(em, id, body));
  }

  /** "Incident is caused by problem". */
  @Put('incidents/:id/problem')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  async link(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: LinkProblemInput }) body: z.output<typeof LinkProblemInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<Problem> {
    await this.commands.run(p, (em, by) => this.problems.link(em, id, body.problemId, by));
    return this.problems.get(this.db.manager, body.problemId);
  }

  @Delete('incidents/:id/problem')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(204)
  @Roles('responder')
  async unlink(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<void> {
    await this.commands.run(p, (em, by) => this.problems.unlink(em, id, by));
  }
}
