import { z } from 'zod';
import type { TopicId } from './topics.js';

/*
 * Every event that crosses a service boundary, with its topic and schema. Producers validate before
 * writing to the outbox; consumers validate again before handling. A breaking change gets a new
 * version number and both versions stay here until no producer writes the old one.
 */

const id = z.uuid();
const isoTime = z.iso.datetime({ offset: true });
export const Severity = z.enum(['critical', 'error', 'warning', 'info']);
/** An alert's severity, the one type every service uses. */
export type Severity = z.output<typeof Severity>;
export const Priority = z.enum(['P1', 'P2', 'P3', 'P4', 'P5']);
export const Urgency = z.enum(['high', 'low']);
export const Channel = z.enum(['email', 'sms', 'voice', 'push']);
/** A way to reach a person, the one type every service uses. */
export type Channel = z.output<typeof Channel>;
/** Where an action came from: the API, a phone channel, the monitoring tool or the system itself. */
export const ActionSource = z.enum(['api', 'email', 'sms', 'voice', 'push', 'monitor', 'timeout', 'system']);

const actor = z.object({
  userId: id.nullable(),
  name: z.string().nullable(),
  source: ActionSource,
});

// ---- alert-ingest → klaxon.alerts ---------------------------------------------------------------

const alertRef = {
  alertId: id,
  serviceId: id,
  integrationId: id.nullable(),
  dedupKey: z.string().min(1).max(512),
};

export const AlertTriggered = z.object({
  ...alertRef,
  integrationType: z.string(),
  summary: z.string().min(1).max(1024),
  severity: Severity,
  source: z.string().max(1024).nullable(),
  component: z.string().nullable().optional(),
  group: z.string().nullable().optional(),
  class: z.string().nullable().optional(),
  details: z.record(z.string(), z.unknown()).default({}),
  links: z.array(z.object({ href: z.string(), text: z.string().optional() })).default([]),
  /** Fields the sender chose for content-based grouping (labels, tags). */
  labels: z.record(z.string(), z.string()).default({}),
  /** True when the service was in a maintenance window: record it, open no incident, page nobody. */
  inMaintenance: z.boolean().default(false),
  triggeredAt: isoTime,
});

export const AlertDeduplicated = z.object({
  ...alertRef,
  count: z.number().int().positive(),
  lastSeenAt: isoTime,
});

/** `by` and `note`: who acted at the sender and what they wrote (Opsgenie's user and note), when it says. */
const senderAction = { by: actor.nullable().default(null), note: z.string().max(25000).nullable().default(null) };
export const AlertAcknowledged = z.object({ ...alertRef, acknowledgedAt: isoTime, ...senderAction });
/** `by`: who resolved it (a person through POST /api/v1/alerts/{id}/resolve, or a user the sender named); null: the monitoring tool. */
export const AlertResolved = z.object({ ...alertRef, resolvedAt: isoTime, ...senderAction });

// ---- incidents → klaxon.incidents ---------------------------------------------------------------

const incidentRef = {
  incidentId: id,
  number: z.number().int().positive(),
  serviceId: id,
};

export const IncidentTriggered = z.object({
  ...incidentRef,
  title: z.string().min(1).max(1024),
  priority: Priority,
  urgency: Urgency,
  alertId: id.nullable(),
  triggeredAt: isoTime,
  /** Why escalation (re)starts: a new incident, an acknowledgement timeout, or an un-snooze. */
  reason: z.enum(['new', 'ack-timeout', 'snooze-expired', 'reopened']).default('new'),
});

export const IncidentAcknowledged = z.object({ ...incidentRef, by: actor, acknowledgedAt: isoTime });
/** An acknowledgement timed out (or was withdrawn): the incident is triggered again; escalation restarts via incident.triggered with reason ack-timeout. */
export const IncidentUnacknowledged = z.object({ ...incidentRef, by: actor, unacknowledgedAt: isoTime });
/** Snoozed until a time: escalation and notifications pause; at the end incident.triggered (reason snooze-expired) follows. */
export const IncidentSnoozed = z.object({ ...incidentRef, by: actor, snoozedUntil: isoTime });
export const IncidentPriorityChanged = z.object({ ...incidentRef, by: actor, from: Priority, to: Priority, changedAt: isoTime });
export const IncidentMajorChanged = z.object({ ...incidentRef, by: actor, major: z.boolean(), changedAt: isoTime });
export const IncidentSlaBreached = z.object({
  ...incidentRef,
  goal: z.enum(['acknowledge', 'resolve']),
  priority: Priority,
  targetSeconds: z.number().int().positive(),
  breachedAt: isoTime,
});
/**
 * `alertIds`: the incident's alerts that were still open. The state rule (docs/architecture.md): an
 * incident resolved anywhere resolves its alerts; alert-ingest consumes this and frees their dedup keys.
 */
export const IncidentResolved = z.object({ ...incidentRef, by: actor, resolvedAt: isoTime, alertIds: z.array(id).default([]) });
export const IncidentEscalateRequested = z.object({ ...incidentRef, by: actor, requestedAt: isoTime });
export const IncidentReassigned = z.object({
  ...incidentRef,
  by: actor,
  userIds: z.array(id).min(1),
  reassignedAt: isoTime,
});
export const StakeholderUpdateRequested = z.object({
  ...incidentRef,
  updateId: id,
  title: z.string(),
  summary: z.string().min(1).max(500),
  message: z.string().min(1).max(20000),
  recipients: z.array(z.object({ email: z.email(), name: z.string().nullable() })).min(1),
  requestedAt: isoTime,
});

// ---- oncall → klaxon.pages ----------------------------------------------------------------------

export const PageRequested = z.object({
  /** Idempotency key: one page per (incident, trigger generation, loop, step, user). */
  pageId: z.string().min(1).max(300),
  incidentId: id,
  incidentNumber: z.number().int().positive(),
  serviceId: id,
  serviceName: z.string(),
  title: z.string(),
  urgency: Urgency,
  userId: id,
  /** The user as oncall knows them: notifier falls back to this email if it has no contact methods yet. */
  userName: z.string(),
  userEmail: z.email(),
  step: z.number().int().nonnegative(),
  loop: z.number().int().nonnegative(),
  /** Why they are paged: their escalation step came, or someone reassigned the incident to them. */
  reason: z.enum(['escalation', 'reassigned']).default('escalation'),
  requestedAt: isoTime,
});

export const EscalationStepFired = z.object({
  incidentId: id,
  step: z.number().int().nonnegative(),
  loop: z.number().int().nonnegative(),
  userIds: z.array(id),
  /** True when the step's targets resolved to nobody; escalation moved on at once. */
  nobodyOnCall: z.boolean(),
  firedAt: isoTime,
});

export const EscalationExhausted = z.object({ incidentId: id, exhaustedAt: isoTime });

// ---- notifier → klaxon.notifications ------------------------------------------------------------

export const NotificationStatusChanged = z.object({
  notificationId: id,
  pageId: z.string().nullable(),
  incidentId: id.nullable(),
  userId: id.nullable(),
  channel: Channel,
  provider: z.string(),
  providerMessageId: z.string().nullable(),
  status: z.enum(['queued', 'sent', 'delivered', 'failed', 'undelivered', 'cancelled']),
  destination: z.string().describe('masked destination, never the full number or address'),
  error: z.string().nullable(),
  at: isoTime,
});

export const ResponderAction = z.object({
  incidentId: id,
  action: z.enum(['acknowledge', 'resolve', 'escalate']),
  userId: id,
  source: ActionSource,
  at: isoTime,
});

// ---- oncall → klaxon.directory ------------------------------------------------------------------

export const Role = z.enum(['admin', 'responder', 'viewer']);

export const UserUpserted = z.object({
  userId: id,
  name: z.string(),
  email: z.email(),
  timeZone: z.string(),
  role: Role,
});
export const UserDeleted = z.object({ userId: id });
/** An API token was revoked: every service refuses it from now on (until it would have expired anyway). */
export const TokenRevoked = z.object({ tokenId: id, userId: id, expiresAt: isoTime });

export const TeamUpserted = z.object({
  teamId: id,
  name: z.string(),
  members: z.array(z.object({ userId: id, role: z.enum(['manager', 'responder', 'observer']) })),
});
export const TeamDeleted = z.object({ teamId: id });

/** Maintenance windows (owned by alert-ingest): alerts are recorded but open no incident and page nobody. */
export const MaintenanceWindowUpserted = z.object({
  windowId: id,
  serviceIds: z.array(id).min(1),
  startsAt: isoTime,
  endsAt: isoTime,
  description: z.string(),
});
export const MaintenanceWindowDeleted = z.object({ windowId: id });

export const Grouping = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('time'), windowMinutes: z.number().int().min(1).max(1440) }),
  z.object({
    mode: z.literal('content'),
    fields: z.array(z.string().min(1)).min(1),
    windowMinutes: z.number().int().min(1).max(1440),
  }),
]);

export const UrgencyRule = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant'), urgency: Urgency }),
  z.object({
    type: z.literal('support-hours'),
    timeZone: z.string(),
    days: z.array(z.number().int().min(1).max(7)).min(1),
    start: z.string().regex(/^\d{2}:\d{2}$/),
    end: z.string().regex(/^\d{2}:\d{2}$/),
    during: Urgency,
    outside: Urgency,
  }),
]);

/**
 * Which incidents of a service get a draft post-incident review when they resolve: none, major
 * incidents (the default), or major and P1/P2 incidents.
 */
export const AutomaticReviews = z.enum(['off', 'major', 'major-and-p1-p2']);

export const ServiceUpserted = z.object({
  serviceId: id,
  name: z.string(),
  teamId: id.nullable(),
  escalationPolicyId: id.nullable(),
  urgencyRule: UrgencyRule,
  grouping: Grouping,
  ackTimeoutSeconds: z.number().int().nonnegative().nullable(),
  autoResolveOnAlertResolve: z.boolean(),
  autoResolveTimeoutSeconds: z.number().int().positive().nullable(),
  automaticReviews: AutomaticReviews.default('major'),
});
export const ServiceDeleted = z.object({ serviceId: id });

// ---- the registry -------------------------------------------------------------------------------

interface EventDefinition<S extends z.ZodType = z.ZodType> {
  topic: TopicId;
  version: number;
  schema: S;
}

function event<S extends z.ZodType>(topic: TopicId, schema: S, version = 1): EventDefinition<S> {
  return { topic, version, schema };
}

export const Events = {
  'alert.triggered': event('alerts', AlertTriggered),
  'alert.deduplicated': event('alerts', AlertDeduplicated),
  'alert.acknowledged': event('alerts', AlertAcknowledged),
  'alert.resolved': event('alerts', AlertResolved),

  'incident.triggered': event('incidents', IncidentTriggered),
  'incident.acknowledged': event('incidents', IncidentAcknowledged),
  'incident.unacknowledged': event('incidents', IncidentUnacknowledged),
  'incident.snoozed': event('incidents', IncidentSnoozed),
  'incident.priority-changed': event('incidents', IncidentPriorityChanged),
  'incident.major-changed': event('incidents', IncidentMajorChanged),
  'incident.sla-breached': event('incidents', IncidentSlaBreached),
  'incident.resolved': event('incidents', IncidentResolved),
  'incident.escalate-requested': event('incidents', IncidentEscalateRequested),
  'incident.reassigned': event('incidents', IncidentReassigned),
  'stakeholder-update.requested': event('incidents', StakeholderUpdateRequested),

  'page.requested': event('pages', PageRequested),
  'escalation.step-fired': event('pages', EscalationStepFired),
  'escalation.exhausted': event('pages', EscalationExhausted),

  'notification.status-changed': event('notifications', NotificationStatusChanged),
  'responder.action': event('notifications', ResponderAction),

  'user.upserted': event('directory', UserUpserted),
  'user.deleted': event('directory', UserDeleted),
  'token.revoked': event('directory', TokenRevoked),
  'team.upserted': event('directory', TeamUpserted),
  'team.deleted': event('directory', TeamDeleted),
  'maintenance.upserted': event('directory', MaintenanceWindowUpserted),
  'maintenance.deleted': event('directory', MaintenanceWindowDeleted),
  'service.upserted': event('directory', ServiceUpserted),
  'service.deleted': event('directory', ServiceDeleted),
} as const;

export type EventType = keyof typeof Events;
/** The parsed data of an event type, after defaults are applied. */
export type EventData<T extends EventType> = z.output<(typeof Events)[T]['schema']>;
/** What a producer passes in (defaults may be omitted). */
export type EventInput<T extends EventType> = z.input<(typeof Events)[T]['schema']>;

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(Events, type);
}
