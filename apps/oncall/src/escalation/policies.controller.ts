import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { Roles, TeamScoped } from '#libs/auth';
import { PolicyOwners } from '../teams/team-owners.js';
import { z } from 'zod';
import { PolicyInput } from './policy.js';
import { PoliciesService } from './policies.service.js';
import type { EscalationPolicy } from './policy.entity.js';

const Id = z.uuid({ message: 'must be an escalation policy id (a UUID)' });

@Controller('api/v1/escalation-policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  list(): Promise<EscalationPolicy[]> {
    return this.policies.list();
  }

  @Get(':id')
  get(@Param('id', { schema: Id }) id: string): Promise<EscalationPolicy> {
    return this.policies.get(id);
  }

  @Post()
  @TeamScoped(PolicyOwners, 'manager')
  @Roles('responder')
  create(@Body({ schema: PolicyInput }) body: PolicyInput): Promise<EscalationPolicy> {
    return this.policies.create(body);
  }

  @Put(':id')
  @TeamScoped(PolicyOwners, 'manager')
  @Roles('responder')
  update(@Param('id', { schema: Id }) id: string, @Body({ schema: PolicyInput }) body: PolicyInput): Promise<EscalationPolicy> {
    return this.policies.update(id, body);
  }

  @Delete(':id')
  @TeamScoped(PolicyOwners, 'manager')
  @Roles('responder')
  @HttpCode(204)
  remove(@Param('id', { schema: Id }) id: string): Promise<void> {
    return this.policies.remove(id);
  }
}
