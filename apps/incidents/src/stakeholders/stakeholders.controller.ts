import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { IncidentOwners, ServiceOwners } from '../directory/team-owners.js';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { Commands } from '../directory/commands.js';
import { IncidentId } from '../incidents/incidents.dto.js';
import { StakeholderId, StakeholderInput, StakeholderUpdateInput } from './stakeholders.dto.js';
import { StakeholdersService, type Stakeholder, type StakeholderUpdate } from './stakeholders.service.js';

const ServiceId = z.uuid({ message: 'must be a service id (a UUID)' });

@Controller('api/v1')
export class StakeholdersController {
  constructor(
    private readonly stakeholders: StakeholdersService,
    private readonly commands: Commands,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** The incident's own stakeholders and its service's. */
  @Get('incidents/:id/stakeholders')
  listForIncident(@Param('id', { schema: IncidentId }) id: string): Promise<Stakeholder[]> {
    return this.stakeholders.listForIncident(this.db.manager, id);
  }

  @Post('incidents/:id/stakeholders')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  addToIncident(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: StakeholderInput }) body: StakeholderInput,
    @CurrentPrincipal() p: Principal,
  ): Promise<Stakeholder> {
    return this.commands.run(p, (em, by) => this.stakeholders.addToIncident(em, id, by, body));
  }

  @Delete('incidents/:id/stakeholders/:stakeholderId')
  @TeamScoped(IncidentOwners, 'responder')
  @HttpCode(204)
  @Roles('responder')
  async removeFromIncident(
    @Param('id', { schema: IncidentId }) id: string,
    @Param('stakeholderId', { schema: StakeholderId }) stakeholderId: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    await this.commands.run(p, (em, by) => this.stakeholders.removeFromIncident(em, id, stakeholderId, by));
  }

  /** "Send stakeholder update": recorded, on the timeline, emailed by notifier to every stakeholder. */
  @Post('incidents/:id/stakeholder-updates')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  sendUpdate(
    @Param('id', { schema: IncidentId }) id: string,
    @Body({ schema: StakeholderUpdateInput }) body: z.output<typeof StakeholderUpdateInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<StakeholderUpdate> {
    return this.commands.run(p, (em, by) => this.stakeholders.sendUpdate(em, id, by, body));
  }

  @Get('incidents/:id/stakeholder-updates')
  listUpdates(@Param('id', { schema: IncidentId }) id: string): Promise<StakeholderUpdate[]> {
    return this.stakeholders.listUpdates(this.db.manager, id);
  }

  /** A service's stakeholders are informed of every incident on it. */
  @Get('services/:serviceId/stakeholders')
  listForService(@Param('serviceId', { schema: ServiceId }) serviceId: string): Promise<Stakeholder[]> {
    return this.stakeholders.listForService(this.db.manager, serviceId);
  }

  @Post('services/:serviceId/stakeholders')
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  addToService(@Param('serviceId', { schema: ServiceId }) serviceId: string, @Body({ schema: StakeholderInput }) body: StakeholderInput): Promise<Stakeholder> {
    return this.db.transaction((em) => this.stakeholders.addToService(em, serviceId, body));
  }

  @Delete('services/:serviceId/stakeholders/:stakeholderId')
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  @HttpCode(204)
  async removeFromService(
    @Param('serviceId', { schema: ServiceId }) serviceId: string,
    @Param('stakeholderId', { schema: StakeholderId }) stakeholderId: string,
  ): Promise<void> {
    await this.db.transaction((em) => this.stakeholders.removeFromService(em, serviceId, stakeholderId));
  }
}
