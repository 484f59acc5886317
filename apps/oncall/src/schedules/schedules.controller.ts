import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { ScheduleOwners } from '../teams/team-owners.js';
import type { Request } from 'express';
import { z } from 'zod';
import { Roles } from '#libs/auth';
import { CONFIG } from '#libs/config';
import type { OncallConfig } from '../config.js';
import { AtQuery, GapsQuery, OverrideInput, RangeQuery, ScheduleInput } from './schedules.dto.js';
import { SchedulesService, type OverrideView, type ScheduleView } from './schedules.service.js';
import { feedUrl } from './feeds.js';

const Id = z.uuid({ message: 'must be a schedule id (a UUID)' });
const OverrideId = z.uuid({ message: 'must be an override id (a UUID)' });
const ListQuery = z.strictObject({ teamId: z.uuid().optional() });

@Controller('api/v1/schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: SchedulesService,
    @Inject(CONFIG) private readonly config: OncallConfig,
  ) {}

  @Get()
  list(@Query({ schema: ListQuery }) q: z.output<typeof ListQuery>): Promise<ScheduleView[]> {
    return this.schedules.list(q.teamId);
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<ScheduleView> {
    return this.schedules.get(id);
  }

  @Post()
  @TeamScoped(ScheduleOwners, 'manager')
  @Roles('responder')
  create(@Body({ schema: ScheduleInput }) body: ScheduleInput): Promise<ScheduleView> {
    return this.schedules.create(body);
  }

  @Put(':id')
  @TeamScoped(ScheduleOwners, 'manager')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: ScheduleInput }) body: ScheduleInput): Promise<ScheduleView> {
    return this.schedules.update(id, body);
  }

  @Delete(':id')
  @TeamScoped(ScheduleOwners, 'manager')
  @Roles('responder')
  @HttpCode(204)
  remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    return this.schedules.remove(id);
  }

  /** The final schedule for [from, to) (default: the next 7 days), with each layer's shifts, overrides and gaps. */
  @Get(':id/shifts')
  shifts(@Param('id', { schema: Id }) id: string, @Query({ schema: RangeQuery }) q: RangeQuery) {
    return this.schedules.final(id, q);
  }

  /** Who is on call now (or at `at`). */
  @Get(':id/on-call')
  onCall(@Param('id', { schema: Id }) id: string, @Query({ schema: AtQuery }) q: AtQuery) {
    return this.schedules.onCall(id, q.at);
  }

  /** Times with nobody on call in the next `days` days (default 14) from now (or `from`). */
  @Get(':id/gaps')
  gaps(@Param('id', { schema: Id }) id: string, @Query({ schema: GapsQuery }) q: GapsQuery) {
    return this.schedules.gaps(id, q.days, q.from);
  }

  @Get(':id/overrides')
  overrides(@Param('id', { schema: Id }) id: string, @Query({ schema: RangeQuery }) q: RangeQuery): Promise<OverrideView[]> {
    return this.schedules.listOverrides(id, q);
  }

  /** Responders cover for each other: taking a shift needs no admin. */
  @Post(':id/overrides')
  @TeamScoped(ScheduleOwners, 'responder')
  @Roles('responder')
  createOverride(@Param('id', { schema: Id }) id: string, @Body({ schema: OverrideInput }) body: OverrideInput): Promise<OverrideView> {
    return this.schedules.createOverride(id, body);
  }

  @Delete(':id/overrides/:overrideId')
  @TeamScoped(ScheduleOwners, 'responder')
  @Roles('responder')
  @HttpCode(204)
  removeOverride(@Param('id', { schema: Id }) id: string, @Param('overrideId', { schema: OverrideId }) overrideId: string): Promise<void> {
    return this.schedules.removeOverride(id, overrideId);
  }

  /** A new secret iCal feed URL for the schedule (shown once; the previous URL stops working). */
  @Post(':id/feed')
  @TeamScoped(ScheduleOwners, 'manager')
  @Roles('responder')
  async rotateFeed(@Param('id', { schema: Id }) id: string, @Req() req: Request): Promise<{ url: string }> {
    return { url: feedUrl(this.config.PUBLIC_URL, req, 'schedules', await this.schedules.rotateFeedToken(id)) };
  }
}
