import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NotFoundError } from '#libs/platform';
import { Integration, type IntegrationType } from './integration.entity.js';
import { hashKey, keyHint, newIntegrationKey } from './keys.js';

export interface IntegrationWithKey {
  integration: Integration;
  /** Shown once, never stored. */
  key: string;
}

@Injectable()
export class IntegrationsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(input: { serviceId: string; type: IntegrationType; name: string; config?: Record<string, unknown> }): Promise<IntegrationWithKey> {
    const key = newIntegrationKey();
    const integration = this.db.getRepository(Integration).create({
      id: randomUUID(),
      serviceId: input.serviceId,
      type: input.type,
      name: input.name,
      keyHash: hashKey(key),
      keyHint: keyHint(key),
      config: input.config ?? {},
      enabled: true,
    });
    await this.db.getRepository(Integration).save(integration);
    const { keyHash: _, ...visible } = integration;
    return { integration: visible as Integration, key };
  }

  list(serviceId?: string): Promise<Integration[]> {
    return this.db.getRepository(Integration).find({ where: serviceId ? { serviceId } : {}, order: { createdAt: 'ASC' } });
  }

  async get(id: string): Promise<Integration> {
    const i = await this.db.getRepository(Integration).findOneBy({ id });
    if (!i) throw new NotFoundError('Integration', id);
    return i;
  }

  /** Issues a new key; the old one stops working at once. */
  async rotate(id: string): Promise<IntegrationWithKey> {
    const key = newIntegrationKey();
    const result = await this.db.getRepository(Integration).update({ id }, { keyHash: hashKey(key), keyHint: keyHint(key) });
    if (!result.affected) throw new NotFoundError('Integration', id);
    return { integration: await this.get(id), key };
  }

  async setEnabled(id: string, enabled: boolean): Promise<Integration> {
    const result = await this.db.getRepository(Integration).update({ id }, { enabled });
    if (!result.affected) throw new NotFoundError('Integration', id);
    return this.get(id);
  }

  /** The enabled integration a key belongs to, or undefined (never says whether it exists but is disabled). */
  async findByKey(key: string, type?: IntegrationType): Promise<Integration | undefined> {
    const rows: Integration[] = await this.db.query(
      `SELECT id, service_id AS "serviceId", type, name, config, enabled FROM integrations WHERE key_hash = $1 AND enabled`,
      [hashKey(key)],
    );
    const found = rows[0];
    if (!found || (type && found.type !== type)) return undefined;
    return found;
  }
}
