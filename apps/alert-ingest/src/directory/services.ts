import { Controller, Injectable } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EventData } from '#libs/contracts';
import { queryRows } from '#libs/database';
import { OnEvent, type EventContext } from '#libs/messaging';
import { InvalidInputError } from '#libs/platform';

/** How long a window naming a service alert-ingest has not heard of waits for oncall's directory event. */
const ARRIVAL_WAIT_MS = 5000;

/** alert-ingest's copy of oncall's services (the directory topic), for checking what people name. */
@Controller()
export class ServicesDirectoryController {
  @OnEvent('service.upserted')
  async onServiceUpserted(@Payload() s: EventData<'service.upserted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, deleted, updated_at) VALUES ($1, $2, false, $3)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, deleted = false, updated_at = EXCLUDED.updated_at
       WHERE services.updated_at <= EXCLUDED.updated_at`,
      [s.serviceId, s.name, ctx.envelope.occurredAt],
    );
  }

  @OnEvent('service.deleted')
  async onServiceDeleted(@Payload() s: EventData<'service.deleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO services (id, name, deleted, updated_at) VALUES ($1, '', true, $2)
       ON CONFLICT (id) DO UPDATE SET deleted = true, updated_at = EXCLUDED.updated_at WHERE services.updated_at <= EXCLUDED.updated_at`,
      [s.serviceId, ctx.envelope.occurredAt],
    );
  }
}

@Injectable()
export class KnownServices {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Throws a 400 naming the services that are neither in oncall's directory nor receiving alerts
   * here (have an integration). A service created a moment ago is waited for (up to 5 s).
   */
  async require(serviceIds: string[]): Promise<void> {
    const deadline = Date.now() + ARRIVAL_WAIT_MS;
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      const known = await queryRows<{ id: string }>(
        this.db,
        `SELECT id FROM services WHERE id = ANY($1::uuid[]) AND NOT deleted
         UNION SELECT service_id FROM integrations WHERE service_id = ANY($1::uuid[])`,
        [serviceIds],
      );
      const unknown = serviceIds.filter((id) => !known.some((k) => k.id === id));
      if (unknown.length === 0) return;
      if (Date.now() + wait > deadline)
        throw new InvalidInputError(`Unknown service${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (services are created in oncall)`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
