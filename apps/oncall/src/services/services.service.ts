import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Outbox } from '#libs/messaging';
import { InvalidInputError, NotFoundError } from '#libs/platform';
import { Service } from './service.entity.js';
import type { ServiceInput } from './services.dto.js';

@Injectable()
export class ServicesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: Outbox,
  ) {}

  list(): Promise<Service[]> {
    return this.db.getRepository(Service).find({ order: { name: 'ASC' } });
  }

  async get(id: string): Promise<Service> {
    const s = await this.db.getRepository(Service).findOneBy({ id });
    if (!s) throw new NotFoundError('Service', id);
    return s;
  }

  create(input: ServiceInput): Promise<Service> {
    return this.db.transaction(async (em) => {
      await this.assertReferences(em, input);
      const service = await em.save(em.create(Service, { id: randomUUID(), ...input }));
      await this.announce(em, service);
      return service;
    });
  }

  update(id: string, input: ServiceInput): Promise<Service> {
    return this.db.transaction(async (em) => {
      const service = await em.findOne(Service, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!service) throw new NotFoundError('Service', id);
      await this.assertReferences(em, input);
      Object.assign(service, input);
      await em.save(service);
      await this.announce(em, service);
      return service;
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const result = await em.delete(Service, { id });
      if (!result.affected) throw new NotFoundError('Service', id);
      await this.outbox.publish(em, 'service.deleted', id, { serviceId: id });
    });
  }

  private async assertReferences(em: EntityManager, input: ServiceInput): Promise<void> {
    if (input.teamId) {
      const found = await em.query('SELECT 1 FROM teams WHERE id = $1', [input.teamId]);
      if (!found.length) throw new InvalidInputError(`Team ${input.teamId} does not exist`);
    }
    if (input.escalationPolicyId) {
      const found = await em.query('SELECT 1 FROM escalation_policies WHERE id = $1', [input.escalationPolicyId]);
      if (!found.length) throw new InvalidInputError(`Escalation policy ${input.escalationPolicyId} does not exist`);
    }
  }

  private async announce(em: EntityManager, s: Service): Promise<void> {
    await this.outbox.publish(em, 'service.upserted', s.id, {
      serviceId: s.id,
      name: s.name,
      teamId: s.teamId,
      escalationPolicyId: s.escalationPolicyId,
      urgencyRule: s.urgencyRule,
      grouping: s.grouping,
      ackTimeoutSeconds: s.ackTimeoutSeconds,
      autoResolveOnAlertResolve: s.autoResolveOnAlertResolve,
      autoResolveTimeoutSeconds: s.autoResolveTimeoutSeconds,
      automaticReviews: s.automaticReviews,
    });
  }
}
