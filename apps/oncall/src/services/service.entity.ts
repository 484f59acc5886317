import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { z } from 'zod';
import type { Grouping, UrgencyRule } from '#libs/contracts';

@Entity('services')
export class Service {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('uuid', { name: 'team_id', nullable: true })
  teamId!: string | null;

  @Column('uuid', { name: 'escalation_policy_id', nullable: true })
  escalationPolicyId!: string | null;

  @Column('jsonb', { name: 'urgency_rule' })
  urgencyRule!: z.output<typeof UrgencyRule>;

  @Column('jsonb')
  grouping!: z.output<typeof Grouping>;

  @Column('int', { name: 'ack_timeout_seconds', nullable: true })
  ackTimeoutSeconds!: number | null;

  @Column('boolean', { name: 'auto_resolve_on_alert_resolve' })
  autoResolveOnAlertResolve!: boolean;

  @Column('int', { name: 'auto_resolve_timeout_seconds', nullable: true })
  autoResolveTimeoutSeconds!: number | null;

  @Column('text', { name: 'automatic_reviews' })
  automaticReviews!: 'off' | 'major' | 'major-and-p1-p2';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
