import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Roles, TeamScoped } from '#libs/auth';
import { ServiceOwners } from '../teams/team-owners.js';
import { z } from 'zod';
import { ServiceInput } from './services.dto.js';
import { ServicesService } from './services.service.js';
import type { Service } from './service.entity.js';

const Id = z.uuid({ message: 'must be a service id (a UUID)' });

@Controller('api/v1/services')
export class ServicesController {
  constructor(private readonly services: ServicesService) {}

  @Get()
  list(): Promise<Service[]> {
    return this.services.list();
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<Service> {
    return this.services.get(id);
  }

  @Post()
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  create(@Body({ schema: ServiceInput }) body: ServiceInput): Promise<Service> {
    return this.services.create(body);
  }

  @Put(':id')
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: ServiceInput }) body: ServiceInput): Promise<Service> {
    return this.services.update(id, body);
  }

  @Delete(':id')
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  @HttpCode(204)
  remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    return this.services.remove(id);
  }
}
