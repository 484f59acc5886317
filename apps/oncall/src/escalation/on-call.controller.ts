import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { AtQuery } from '../schedules/schedules.dto.js';
import { OnCallService } from './on-call.service.js';

const ServiceId = z.uuid({ message: 'must be a service id (a UUID)' });
const TeamId = z.uuid({ message: 'must be a team id (a UUID)' });

/** Who is on call, per service, team and everywhere; and the dry run of a service's escalation. */
@Controller('api/v1')
export class OnCallController {
  constructor(private readonly onCall: OnCallService) {}

  @Get('on-call')
  everywhere(@Query({ schema: AtQuery }) q: AtQuery) {
    return this.onCall.everywhere(q.at);
  }

  @Get('services/:id/on-call')
  service(@Param('id', { schema: ServiceId }) id: string, @Query({ schema: AtQuery }) q: AtQuery) {
    return this.onCall.forService(id, q.at);
  }

  @Get('teams/:id/on-call')
  team(@Param('id', { schema: TeamId }) id: string, @Query({ schema: AtQuery }) q: AtQuery) {
    return this.onCall.forTeam(id, q.at);
  }

  /** "If this service triggered at `at` (default now), who would be paged, when, by which step." */
  @Get('services/:id/dry-run')
  dryRun(@Param('id', { schema: ServiceId }) id: string, @Query({ schema: AtQuery }) q: AtQuery) {
    return this.onCall.dryRun(id, q.at);
  }
}
