import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { Roles, TeamScoped } from '#libs/auth';
import { ServiceOwners } from '../directory/team-owners.js';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Priority } from '#libs/contracts';
import { InvalidInputError, NotFoundError } from '#libs/platform';
import { Directory } from '../directory/directory.service.js';
import type { SlaPolicyGoal } from './sla.service.js';
import { SlaService } from './sla.service.js';

const ServiceId = z.uuid({ message: 'must be a service id (a UUID)' });
const Minutes = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 60)
  .nullable()
  .default(null);

export const SlaPolicyInput = z.strictObject({
  goals: z
    .array(
      z
        .strictObject({
          priority: z.enum(Priority.options, { message: `must be one of ${Priority.options.join(', ')}` }),
          acknowledgeWithinMinutes: Minutes,
          resolveWithinMinutes: Minutes,
        })
        .refine((g) => g.acknowledgeWithinMinutes !== null || g.resolveWithinMinutes !== null, {
          message: 'set acknowledgeWithinMinutes, resolveWithinMinutes or both',
        }),
    )
    .max(5),
});
type SlaPolicyInput = z.output<typeof SlaPolicyInput>;

export interface SlaPolicyView {
  serviceId: string;
  goals: { priority: string; acknowledgeWithinMinutes: number | null; resolveWithinMinutes: number | null }[];
}

function toView(serviceId: string, goals: SlaPolicyGoal[]): SlaPolicyView {
  const minutes = (s: number | null): number | null => (s === null ? null : s / 60);
  return {
    serviceId,
    goals: goals.map((g) => ({
      priority: g.priority,
      acknowledgeWithinMinutes: minutes(g.acknowledgeSeconds),
      resolveWithinMinutes: minutes(g.resolveSeconds),
    })),
  };
}

/** A service's SLA goals: time to acknowledge and time to resolve, per priority. */
@Controller('api/v1/services/:serviceId/sla-policy')
export class SlaController {
  constructor(
    private readonly slas: SlaService,
    private readonly directory: Directory,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get()
  async get(@Param('serviceId', { schema: ServiceId }) serviceId: string): Promise<SlaPolicyView> {
    await this.requireService(serviceId);
    return toView(serviceId, await this.slas.policy(this.db.manager, serviceId));
  }

  /** Replaces the goals. New incidents, and open ones whose priority changes, follow them. */
  @Put()
  @TeamScoped(ServiceOwners, 'manager')
  @Roles('responder')
  async put(@Param('serviceId', { schema: ServiceId }) serviceId: string, @Body({ schema: SlaPolicyInput }) body: SlaPolicyInput): Promise<SlaPolicyView> {
    await this.requireService(serviceId);
    const priorities = body.goals.map((g) => g.priority);
    const repeated = priorities.find((p, i) => priorities.indexOf(p) !== i);
    if (repeated) throw new InvalidInputError(`goals: ${repeated} is given twice; give each priority at most once`);
    const goals = body.goals.map((g) => ({
      priority: g.priority,
      acknowledgeSeconds: g.acknowledgeWithinMinutes === null ? null : g.acknowledgeWithinMinutes * 60,
      resolveSeconds: g.resolveWithinMinutes === null ? null : g.resolveWithinMinutes * 60,
    }));
    await this.db.transaction((em) => this.slas.setPolicy(em, serviceId, goals));
    return toView(serviceId, await this.slas.policy(this.db.manager, serviceId));
  }

  private async requireService(serviceId: string): Promise<void> {
    if (!(await this.directory.serviceExists(this.db.manager, serviceId))) {
      throw new NotFoundError('Service', `${serviceId} (services created in oncall appear here within seconds)`);
    }
  }
}
