import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '#libs/platform';
import { HeartbeatsService } from '../heartbeats/heartbeats.service.js';
import { IntegrationConfigSchemas, redactConfig, type IntegrationType } from './integration-config.js';
import { Integration } from './integration.entity.js';
import { IntegrationKeys } from './integration-keys.js';
import { hashKey, keyHint, newIntegrationKey } from './keys.js';

export interface IntegrationWithKey {
  integration: Integration;
  /** Shown once, never stored. */
  key: string;
}

@Injectable()
export class IntegrationsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly keys: IntegrationKeys,
    private readonly heartbeats: HeartbeatsService,
  ) {}

  async create(input: { serviceId: string; type: IntegrationType; name: string; config?: Record<string, unknown> }): Promise<IntegrationWithKey> {
    const key = newIntegrationKey();
    const config = validConfig(input.type, input.config ?? {});
    const integration = await this.db
      .transaction(async (em) => {
        const row = em.getRepository(Integration).create({
          id: randomUUID(),
          serviceId: input.serviceId,
          type: input.type,
          name: input.name,
          keyHash: hashKey(key),
          keyHint: keyHint(key),
          config,
          enabled: true,
        });
        await em.getRepository(Integration).save(row);
        if (row.type === 'heartbeat') await this.heartbeats.onCreated(em, row.id);
        return row;
      })
      .catch(nameTaken(input.name));
    return { integration: visible(integration), key };
  }

  async list(serviceId?: string): Promise<Integration[]> {
    const rows = await this.db.getRepository(Integration).find({ where: serviceId ? { serviceId } : {}, order: { createdAt: 'ASC' } });
    return rows.map(visible);
  }

  async get(id: string): Promise<Integration> {
    return visible(await this.load(this.db.manager, id));
  }

  /** Renames or reconfigures; the key stays. */
  async update(id: string, input: { name?: string; config?: Record<string, unknown> }): Promise<Integration> {
    const updated = await this.db
      .transaction(async (em) => {
        const current = await this.load(em, id, true);
        const config = input.config === undefined ? current.config : validConfig(current.type, withKeptSecrets(input.config, current.config));
        await em.getRepository(Integration).update({ id }, { name: input.name ?? current.name, config: config as never });
        if (current.type === 'heartbeat' && current.enabled) await this.heartbeats.onReconfigured(em, id);
        return this.load(em, id);
      })
      .catch(nameTaken(input.name ?? ''));
    this.keys.forget();
    return visible(updated);
  }

  /** Issues a new key; the old one stops working at once here, and within seconds everywhere. */
  async rotate(id: string): Promise<IntegrationWithKey> {
    const key = newIntegrationKey();
    const result = await this.db.getRepository(Integration).update({ id }, { keyHash: hashKey(key), keyHint: keyHint(key) });
    if (!result.affected) throw new NotFoundError('Integration', id);
    this.keys.forget();
    return { integration: await this.get(id), key };
  }

  async setEnabled(id: string, enabled: boolean): Promise<Integration> {
    const updated = await this.db.transaction(async (em) => {
      const current = await this.load(em, id, true);
      await em.getRepository(Integration).update({ id }, { enabled });
      if (current.type === 'heartbeat' && current.enabled !== enabled) await this.heartbeats.onEnabledChanged(em, id, enabled);
      return this.load(em, id);
    });
    this.keys.forget();
    return visible(updated);
  }

  private async load(em: EntityManager, id: string, lock = false): Promise<Integration> {
    const i = await em.getRepository(Integration).findOne({ where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!i) throw new NotFoundError('Integration', id);
    return i;
  }
}

function validConfig(type: IntegrationType, config: Record<string, unknown>): Record<string, unknown> {
  const parsed = IntegrationConfigSchemas[type].safeParse(config);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => `config${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`);
    throw new InvalidInputError(`Integration config is invalid for type "${type}": ${errors.join('; ')}`, { errors });
  }
  return parsed.data;
}

/** Secrets are never shown, so an update that sends back "(set)" keeps the stored one. */
function withKeptSecrets(next: Record<string, unknown>, current: Record<string, unknown>): Record<string, unknown> {
  const out = { ...next };
  for (const [k, v] of Object.entries(out)) if (v === '(set)' && typeof current[k] === 'string') out[k] = current[k];
  return out;
}

function visible(i: Integration): Integration {
  const { keyHash: _, ...rest } = i;
  return { ...rest, config: redactConfig(i.config) } as Integration;
}

function nameTaken(name: string) {
  return (err: unknown): never => {
    if ((err as { driverError?: { constraint?: string } }).driverError?.constraint === 'integrations_heartbeat_name') {
      throw new ConflictError(`This service already has a heartbeat named "${name}"`);
    }
    throw err;
  };
}
