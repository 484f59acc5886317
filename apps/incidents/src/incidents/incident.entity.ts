import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { z } from 'zod';
import type { ActionSource } from '#libs/contracts';
import type { IncidentStatus, Priority } from './lifecycle.js';

/** Who did something and how: the `by` of incident events, named from the users copy. */
export interface Actor {
  userId: string | null;
  name: string | null;
  source: z.output<typeof ActionSource>;
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

  @Column('text', { name: 'priority_source' })
  prioritySource!: 'alert' | 'manual';

  @Column('text')
  urgency!: 'high' | 'low';

  @Column('uuid', { name: 'team_id', nullable: true })
  teamId!: string | null;

  @Column('uuid', { array: true })
  assignees!: string[];

  @Column('int', { name: 'escalation_level' })
  escalationLevel!: number;

  @Column('boolean')
  major!: boolean;

  @Column('timestamptz', { name: 'snoozed_until', nullable: true })
  snoozedUntil!: Date | null;

  @Column('text', { name: 'conference_url', nullable: true })
  conferenceUrl!: string | null;

  @Column('text', { name: 'conference_dial_in', nullable: true })
  conferenceDialIn!: string | null;

  /** The problem this incident "is caused by". */
  @Column('uuid', { name: 'problem_id', nullable: true })
  problemId!: string | null;

  @Column('int', { name: 'alert_count' })
  alertCount!: number;

  /** Every event of its alerts: each alert's first trigger and its repeats (what the monitors sent). */
  @Column('int', { name: 'alert_events' })
  alertEvents!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'acknowledged_at', nullable: true })
  acknowledgedAt!: Date | null;

  @Column('jsonb', { name: 'acknowledged_by', nullable: true })
  acknowledgedBy!: Actor | null;

  @Column('timestamptz', { name: 'first_acknowledged_at', nullable: true })
  firstAcknowledgedAt!: Date | null;

  @Column('timestamptz', { name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;

  @Column('jsonb', { name: 'resolved_by', nullable: true })
  resolvedBy!: Actor | null;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'last_activity_at', nullable: true })
  lastActivityAt!: Date | null;
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
