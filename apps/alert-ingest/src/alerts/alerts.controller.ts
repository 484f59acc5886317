import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { AlertOwners } from '../directory/services.js';
import { BOOTSTRAP_ADMIN_NAME, CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { z } from 'zod';
import { NotFoundError } from '#libs/platform';
import { AlertStates } from './alert-states.js';
import { AlertsQueries, type AlertView } from './alerts.queries.js';

const ListQuery = z.strictObject({
  serviceId: z.uuid().optional(),
  integrationId: z.uuid().optional(),
  status: z.enum(['open', 'triggered', 'acknowledged', 'resolved']).optional(),
  dedupKey: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.iso.datetime({ offset: true }).optional(),
});

/** The alerts Klaxon recorded, as senders' events left them. */
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    private readonly alerts: AlertsQueries,
    private readonly states: AlertStates,
  ) {}

  @Get()
  list(@Query({ schema: ListQuery }) q: z.output<typeof ListQuery>): Promise<AlertView[]> {
    return this.alerts.list({ ...q, before: q.before ? new Date(q.before) : undefined });
  }

  @Get(':id')
  async get(@Param('id', { schema: z.uuid({ message: 'must be an alert id (a UUID)' }) }) id: string): Promise<AlertView> {
    const alert = await this.alerts.get(id);
    if (!alert) throw new NotFoundError('Alert', id);
    return alert;
  }

  /** A person resolves one alert (its incident resolves when it was the last open one and the service says so). */
  @Post(':id/resolve')
  @TeamScoped(AlertOwners, 'responder')
  @HttpCode(200)
  @Roles('responder')
  async resolve(
    @Param('id', { schema: z.uuid({ message: 'must be an alert id (a UUID)' }) }) id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<AlertView> {
    await this.states.resolveByPerson(id, { userId: p.userId, name: p.userId ? null : BOOTSTRAP_ADMIN_NAME, source: 'api' });
    return (await this.alerts.get(id))!;
  }
}
