import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { INTEGRATION_TYPES, type Integration } from './integration.entity.js';
import { IntegrationsService, type IntegrationWithKey } from './integrations.service.js';

const Id = z.uuid({ message: 'must be an integration id (a UUID)' });
const CreateIntegration = z.strictObject({
  serviceId: z.uuid(),
  type: z.enum(INTEGRATION_TYPES),
  name: z.string().trim().min(1).max(200),
});

@Controller('api/v1/integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** Creates an integration; the answer holds its key, which is never shown again. */
  @Post()
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

  @Post(':id/rotate-key')
  @HttpCode(200)
  rotate(@Param('id', { schema: Id }) id: string): Promise<IntegrationWithKey> {
    return this.integrations.rotate(id);
  }

  @Post(':id/disable')
  @HttpCode(200)
  disable(@Param('id', { schema: Id }) id: string): Promise<Integration> {
    return this.integrations.setEnabled(id, false);
  }

  @Post(':id/enable')
  @HttpCode(200)
  enable(@Param('id', { schema: Id }) id: string): Promise<Integration> {
    return this.integrations.setEnabled(id, true);
  }
}
