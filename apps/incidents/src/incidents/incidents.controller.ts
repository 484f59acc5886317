import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import type { Actor, Incident, TimelineEntry } from './incident.entity.js';
import { IncidentsService } from './incidents.service.js';

const Id = z.uuid({ message: 'must be an incident id (a UUID)' });
const ListQuery = z.strictObject({
  status: z.enum(['triggered', 'acknowledged', 'resolved']).optional(),
  serviceId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const TimelineQuery = z.strictObject({
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

function actorOf(p: Principal): Actor {
  return { userId: p.userId, name: null, source: 'api' };
}

@Controller('api/v1/incidents')
export class IncidentsController {
  constructor(
    private readonly incidents: IncidentsService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get()
  list(@Query({ schema: ListQuery }) q: z.output<typeof ListQuery>): Promise<Incident[]> {
    return this.incidents.list(q);
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<Incident> {
    return this.incidents.get(id);
  }

  @Get(':id/timeline')
  timeline(@Param('id', { schema: Id }) id: string, @Query({ schema: TimelineQuery }) q: z.output<typeof TimelineQuery>): Promise<TimelineEntry[]> {
    return this.incidents.timeline(id, q.order, q.limit);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Roles('responder')
  acknowledge(@Param('id', { schema: Id }) id: string, @CurrentPrincipal() p: Principal): Promise<Incident> {
    return this.db.transaction((em) => this.incidents.acknowledge(em, id, actorOf(p)));
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @Roles('responder')
  resolve(@Param('id', { schema: Id }) id: string, @CurrentPrincipal() p: Principal): Promise<Incident> {
    return this.db.transaction((em) => this.incidents.resolve(em, id, actorOf(p)));
  }
}
