import { Controller, Get, Query } from '@nestjs/common';
import { z } from 'zod';
import { ChangeEventsService, type ChangeEventView } from './change-events.service.js';

const ListQuery = z.strictObject({ serviceId: z.uuid().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

@Controller('api/v1/change-events')
export class ChangeEventsController {
  constructor(private readonly changes: ChangeEventsService) {}

  @Get()
  list(@Query({ schema: ListQuery }) q: z.output<typeof ListQuery>): Promise<ChangeEventView[]> {
    return this.changes.list(q.serviceId, q.limit);
  }
}
