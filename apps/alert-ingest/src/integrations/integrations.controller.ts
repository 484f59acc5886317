import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Roles, TeamScoped } from '#libs/auth';
import { IntegrationOwners, NewIntegrationOwners } from '../directory/services.js';
import { z } from 'zod';
import { INTEGRATION_TYPES } from './integration-config.js';
import type { Integration } from './integration.entity.js';
import { IntegrationsService, type IntegrationWithKey } from './integrations.service.js';

const Id = z.uuid({ message: 'must be an integration id (a UUID)' });
const Name = z.string().trim().min(1).max(200);
const Config = z.record(z.string(), z.unknown());
const CreateIntegration = z.strictObject({
  serviceId: z.uuid(),
  type: z.enum(INTEGRATION_TYPES),
  name: Name,
  config: Config.optional(),
});
const UpdateIntegration = z.strictObject({ name: Name.optional(), config: Config.optional() });

@Controller('api/v1/integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** Creates an integration; the answer holds its key, which is never shown again. */
  @Post()
  @TeamScoped(NewIntegrationOwners, 'manager')
  @Roles('responder')
  create(@Body({ schema: CreateIntegration }) body: z.output<typeof CreateIntegration>): Promise<IntegrationWithKey> {
    return this.integrations.create(body);
  }

  @Get()
  list(@Query({ schema: z.strictObject({ serviceId: z.uuid().optional() }) }) q: { serviceId?: string }): Promise<Integration[]> {
    return this.integrations.list(q.serviceId);
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<Integration> {
    return this.integrations.get(id);
  }

  /** Renames or reconfigures (the whole config is replaced; send "(set)" to keep a stored secret). */
  @Patch(':id')
  @TeamScoped(IntegrationOwners, 'manager')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: UpdateIntegration }) body: z.output<typeof UpdateIntegration>): Promise<Integration> {
    return this.integrations.update(id, body);
  }

  @Post(':id/rotate-key')
  @TeamScoped(IntegrationOwners, 'manager')
  @Roles('responder')
  @HttpCode(200)
  rotate(@Param('id', { schema: Id }) id: string): Promise<IntegrationWithKey> {
    return this.integrations.rotate(id);
  }

  @Post(':id/disable')
  @TeamScoped(IntegrationOwners, 'manager')
  @Roles('responder')
  @HttpCode(200)
  disable(@Param('id', { schema: Id }) id: string): Promise<Integration> {
    return this.integrations.setEnabled(id, false);
  }

  @Post(':id/enable')
  @TeamScoped(IntegrationOwners, 'manager')
  @Roles('responder')
  @HttpCode(200)
  enable(@Param('id', { schema: Id }) id: string): Promise<Integration> {
    return this.integrations.setEnabled(id, true);
  }
}
