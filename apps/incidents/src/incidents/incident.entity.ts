import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { IncidentStatus, Priority } from './lifecycle.js';

export interface Actor {
  userId: string | null;
  name: string | null;
  source: 'api' | 'email' | 'sms' | 'voice' | 'push' | 'monitor' | 'timeout' | 'system';
}

@Entity('incidents')
export class Incident {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('int')
  number!: number;

  @Column('uuid', { name: 'service_id' })
  serviceId!: string;

  @Column('text')
  title!: string;

  @Column('text')
  status!: IncidentStatus;

  @Column('text')
  priority!: Priority;

  @Column('text')
  urgency!: 'high' | 'low';

  @Column('int', { name: 'alert_count' })
  alertCount!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'acknowledged_at', nullable: true })
  acknowledgedAt!: Date | null;

  @Column('jsonb', { name: 'acknowledged_by', nullable: true })
  acknowledgedBy!: Actor | null;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;

  @Column('jsonb', { name: 'resolved_by', nullable: true })
  resolvedBy!: Actor | null;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('timeline')
export class TimelineEntry {
  @PrimaryColumn('bigint')
  id!: string;

  @Column('uuid', { name: 'incident_id' })
  incidentId!: string;

  @Column('timestamptz')
  at!: Date;

  @Column('text')
  kind!: string;

  @Column('jsonb', { nullable: true })
  actor!: Actor | null;

  @Column('jsonb')
  details!: Record<string, unknown>;
}
