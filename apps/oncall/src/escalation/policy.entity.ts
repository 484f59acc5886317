import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Step } from './policy.js';

@Entity('escalation_policies')
export class EscalationPolicy {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  /** The team whose managers may change it (null: admins only). */
  @Column('uuid', { name: 'team_id', nullable: true })
  teamId!: string | null;

  @Column('int', { name: 'repeat_count' })
  repeatCount!: number;

  @Column('jsonb')
  steps!: Step[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
