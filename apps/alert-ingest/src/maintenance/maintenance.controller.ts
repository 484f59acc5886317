import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { MaintenanceOwners } from '../directory/services.js';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { MaintenanceWindowInput } from './maintenance.js';
import { MaintenanceService, type MaintenanceWindowView } from './maintenance.service.js';

const Id = z.uuid({ message: 'must be a maintenance window id (a UUID)' });
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const ListQuery = z.strictObject({ serviceId: z.uuid().optional(), active: flag.optional(), includePast: flag.optional() });

/** Responders may put services in maintenance (a deploy, a planned restart): it is part of the job. */
@Controller('api/v1/maintenance-windows')
export class MaintenanceController {
  constructor(private readonly windows: MaintenanceService) {}

  @Get()
  list(@Query({ schema: ListQuery }) q: z.output<typeof ListQuery>): Promise<MaintenanceWindowView[]> {
    return this.windows.list(q);
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<MaintenanceWindowView> {
    return this.windows.get(id);
  }

  @Post()
  @TeamScoped(MaintenanceOwners, 'manager', 'responder')
  @Roles('responder')
  create(@Body({ schema: MaintenanceWindowInput }) body: MaintenanceWindowInput, @CurrentPrincipal() who: Principal): Promise<MaintenanceWindowView> {
    return this.windows.create(body, who.userId);
  }

  @Put(':id')
  @TeamScoped(MaintenanceOwners, 'manager', 'responder')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: MaintenanceWindowInput }) body: MaintenanceWindowInput): Promise<MaintenanceWindowView> {
    return this.windows.update(id, body);
  }

  @Post(':id/end')
  @TeamScoped(MaintenanceOwners, 'manager', 'responder')
  @Roles('responder')
  @HttpCode(200)
  end(@Param('id', { schema: Id }) id: string): Promise<MaintenanceWindowView> {
    return this.windows.end(id);
  }

  @Delete(':id')
  @TeamScoped(MaintenanceOwners, 'manager', 'responder')
  @Roles('responder')
  @HttpCode(204)
  async remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    await this.windows.remove(id);
  }
}
