import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { IntegrationType } from './integration-config.js';

export { INTEGRATION_TYPES, type IntegrationType } from './integration-config.js';

@Entity('integrations')
export class Integration {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'service_id' })
  serviceId!: string;

  @Column('text')
  type!: IntegrationType;

  @Column('text')
  name!: string;

  @Column('bytea', { name: 'key_hash', select: false })
  keyHash!: Buffer;

  @Column('text', { name: 'key_hint' })
  keyHint!: string;

  @Column('jsonb')
  config!: Record<string, unknown>;

  @Column('boolean')
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
