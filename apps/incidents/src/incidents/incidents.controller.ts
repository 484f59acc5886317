import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { IncidentOwners } from '../directory/team-owners.js';
import type { Request, Response } from 'express';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { Commands } from '../directory/commands.js';
import type { Actor, TimelineEntry } from './incident.entity.js';
import { IncidentQueries, type IncidentAlert, type IncidentView, type Page } from './incident-queries.service.js';
import {
  ConferenceBridgeInput,
  IncidentId,
  ListIncidentsQuery,
  MajorInput,
  NoteInput,
  PriorityInput,
  ReassignInput,
  SnoozeInput,
  TimelineQuery,
} from './incidents.dto.js';
import { IncidentsService } from './incidents.service.js';

/**
 * Pages are JSON arrays; the next page's cursor travels in headers (`X-Next-Cursor`, and a
 * `Link: <…>; rel="next"` with the same query), so a plain array stays easy to consume.
 */
export function sendPage<T>(req: Request, res: Response, page: Page<T>): T[] {
  if (page.nextCursor) {
    const url = new URL(req.originalUrl, 'http://x');
    url.searchParams.set('cursor', page.nextCursor);
    res.setHeader('X-Next-Cursor', page.nextCursor);
    res.setHeader('Link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  return page.items;
}

@Controller('api/v1/incidents')
export class IncidentsController {
  constructor(
    private readonly incidents: IncidentsService,
    private readonly queries: IncidentQueries,
    private readonly commands: Commands,
  ) {}

  /** Runs a command as the calling user, in one transaction, and answers with the incident as it now is. */
  private command(p: Principal, id: string, fn: (em: EntityManager, by: Actor) => Promise<unknown>): Promise<IncidentView> {
    return this.commands.run(p, async (em, by) => {
      await fn(em, by);
      return this.queries.get(id, em);
    });
  }

  @Get()
  async list(
    @Query({ schema: ListIncidentsQuery }) q: ListIncidentsQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<IncidentView[]> {
    return sendPage(req, res, await this.queries.list(q));
  }

  @Get(':id')
  get(@Param('id', { schema: IncidentId }) id: string): Promise<IncidentView> {
    return this.queries.get(id);
  }

  /** The alerts grouped into the incident (up to 1,000), oldest first. */
  @Get(':id/alerts')
  alerts(@Param('id', { schema: IncidentId }) id: string): Promise<IncidentAlert[]> {
    return this.queries.alerts(id);
  }

  @Get(':id/timeline')
  async timeline(
    @Param('id', { schema: IncidentId }) id: string,
    @Query({ schema: TimelineQuery }) q: z.output<typeof TimelineQuery>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TimelineEntry[]> {
    return sendPage(req, res, await this.queries.timeline(id, q.order, q.limit, q.cursor));
  }

  @Post(':id/acknowledge')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  acknowledge(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.acknowledge(em, id, by));
  }

  @Post(':id/unacknowledge')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  unacknowledge(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.unacknowledge(em, id, by));
  }

  @Post(':id/resolve')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  resolve(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.resolve(em, id, by));
  }

  @Post(':id/snooze')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  snooze(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: SnoozeInput }) body: SnoozeInput,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.snooze(em, id, by, body.until ? new Date(body.until) : { minutes: body.minutes! }));
  }

  @Post(':id/escalate')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  escalate(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.escalate(em, id, by));
  }

  @Post(':id/reassign')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  reassign(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: ReassignInput }) body: z.output<typeof ReassignInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.reassign(em, id, by, body.userIds));
  }

  @Put(':id/priority')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  priority(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: PriorityInput }) body: z.output<typeof PriorityInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.changePriority(em, id, by, body.priority));
  }

  @Put(':id/major')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  major(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: MajorInput }) body: z.output<typeof MajorInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.setMajor(em, id, by, body.major));
  }

  @Put(':id/conference-bridge')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  conferenceBridge(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: ConferenceBridgeInput }) body: z.output<typeof ConferenceBridgeInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.setConferenceBridge(em, id, by, body));
  }

  @Post(':id/notes')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(201)
  @Roles('responder')
  note(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: NoteInput }) body: z.output<typeof NoteInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentView> {
    return this.command(p, id, (em, by) => this.incidents.addNote(em, id, by, body.text));
  }
}
