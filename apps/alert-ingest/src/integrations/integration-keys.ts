import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CONFIG } from '#libs/config';
import type { IngestConfig } from '../config.js';
import type { IntegrationType } from './integration-config.js';
import { hashKey } from './keys.js';

/** What the ingest path knows about the integration a key belongs to. */
export interface KeyedIntegration {
  id: string;
  serviceId: string;
  type: IntegrationType;
  name: string;
  config: Record<string, unknown>;
}

/** A key that cannot be used here: 401 when missing, 403 otherwise, never saying whether an integration exists. */
export class IntegrationKeyError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
    this.name = 'IntegrationKeyError';
  }
}

const KEY_FORMAT = /^[0-9a-f]{32}$/;
const MAX_CACHED = 10000;

/**
 * Looks integration keys up by their SHA-256 digest, with a short cache so an alert storm does
 * not cost a key query per event. Changes made here (rotate, disable) drop the entry at once;
 * other instances see them within INGEST_KEY_CACHE_MS.
 */
@Injectable()
export class IntegrationKeys {
  private readonly cache = new Map<string, { value: KeyedIntegration | null; expires: number }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: IngestConfig,
  ) {}

  /** The enabled integration a key belongs to, or undefined (also for a disabled one). */
  async find(key: string): Promise<KeyedIntegration | undefined> {
    if (!KEY_FORMAT.test(key)) return undefined;
    const digest = hashKey(key).toString('hex');
    const hit = this.cache.get(digest);
    if (hit && hit.expires > Date.now()) return hit.value ?? undefined;
    const rows: KeyedIntegration[] = await this.db.query(
      `SELECT id, service_id AS "serviceId", type, name, config FROM integrations WHERE key_hash = $1 AND enabled`,
      [hashKey(key)],
    );
    const value = rows[0] ?? null;
    if (this.config.INGEST_KEY_CACHE_MS > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(digest, { value, expires: Date.now() + this.config.INGEST_KEY_CACHE_MS });
    }
    return value ?? undefined;
  }

  /** The integration for a key of one of these types, or an IntegrationKeyError saying what to fix. */
  async authenticate(key: string | undefined | null, types: readonly IntegrationType[], what = 'integration key'): Promise<KeyedIntegration> {
    if (!key) throw new IntegrationKeyError(401, `Missing ${what}`);
    const found = await this.find(key);
    if (!found) throw new IntegrationKeyError(403, `The ${what} is not valid: it is unknown or its integration is disabled`);
    if (!types.includes(found.type)) {
      // Only someone holding a valid key learns this, so it is safe to be helpful.
      throw new IntegrationKeyError(
        403,
        `This key belongs to a "${found.type}" integration; send it to that integration's endpoint (see docs/alert-ingest.md)`,
      );
    }
    return found;
  }

  forget(): void {
    this.cache.clear();
  }
}
