import { Controller, Get, Query } from '@nestjs/common';
import { ResponseTimesQuery, SlaQuery, VolumeQuery } from './analytics.dto.js';
import { AnalyticsService } from './analytics.service.js';

/** MTTA/MTTR, volume and noise, SLA attainment. Any viewer may read them. */
@Controller('api/v1/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  /** MTTA and MTTR (mean, p50, p90, in seconds), grouped by service, team, priority, urgency, day, week or month. */
  @Get('response-times')
  responseTimes(@Query({ schema: ResponseTimesQuery }) q: ResponseTimesQuery): ReturnType<AnalyticsService['responseTimes']> {
    return this.analytics.responseTimes(q);
  }

  /** Incidents and alerts per service, and alerts per incident. */
  @Get('volume')
  volume(@Query({ schema: VolumeQuery }) q: VolumeQuery): ReturnType<AnalyticsService['volume']> {
    return this.analytics.volume(q);
  }

  /** SLA attainment per goal (acknowledge, resolve), grouped by service, team or priority. */
  @Get('sla')
  sla(@Query({ schema: SlaQuery }) q: SlaQuery): ReturnType<AnalyticsService['sla']> {
    return this.analytics.sla(q);
  }
}
