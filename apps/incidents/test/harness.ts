import { randomUUID } from 'node:crypto';
import type { Role } from '#libs/auth';
import { OffsetClock } from '#libs/clock';
import type { EventInput, EventType } from '#libs/contracts';
import { Api, KafkaTap, testTokens, TestWorld, eventually, waitUntilQuiet, type QuietService, type TappedMessage } from '#libs/testing';
import { incidentsService } from '../src/service.js';

/** Generous: the first events wait for the consumer to join its group, and the machine is shared. */
const WAIT_MS = 30_000;

type Running = Awaited<ReturnType<TestWorld['start']>>;

export interface ServiceOptions {
  name?: string;
  teamId?: string | null;
  grouping?: EventInput<'service.upserted'>['grouping'];
  urgencyRule?: EventInput<'service.upserted'>['urgencyRule'];
  ackTimeoutSeconds?: number | null;
  autoResolveOnAlertResolve?: boolean;
  autoResolveTimeoutSeconds?: number | null;
  automaticReviews?: 'off' | 'major' | 'major-and-p1-p2';
}

/** Publishes an event onto a world's real topic, as its producing service would. */
export function publish<T extends EventType>(world: TestWorld, type: T, key: string, data: EventInput<T>, occurredAt = new Date()): Promise<void> {
  return world.publish(type, key, data, occurredAt);
}

/**
 * The incidents service running in this process with a test clock, driven the way production
 * drives it: events from its upstream services produced onto the real Kafka topics, commands
 * through its HTTP API, and what it publishes read back from the incidents topic.
 */
export class IncidentsHarness {
  readonly world = new TestWorld();
  readonly clock = new OffsetClock();
  readonly tokens = testTokens();
  service!: Running;
  api!: Api;
  tap!: KafkaTap;

  async start(): Promise<this> {
    this.service = await this.world.start(incidentsService, { clock: this.clock });
    this.api = this.service.api;
    this.tap = await this.world.tap('incidents');
    return this;
  }

  close(): Promise<void> {
    return this.world.close();
  }

  /** Publishes an event as its producing service would, onto the real topic. */
  emit<T extends EventType>(type: T, key: string, data: EventInput<T>, occurredAt = this.clock.now()): Promise<void> {
    return publish(this.world, type, key, data, occurredAt);
  }

  /** A service as oncall announces it; resolves once incidents has its copy. */
  async createService(opts: ServiceOptions = {}): Promise<string> {
    const serviceId = randomUUID();
    await this.emit('service.upserted', serviceId, {
      serviceId,
      name: opts.name ?? 'Checkout API',
      teamId: opts.teamId ?? null,
      escalationPolicyId: null,
      urgencyRule: opts.urgencyRule ?? { type: 'constant', urgency: 'high' },
      grouping: opts.grouping ?? { mode: 'none' },
      ackTimeoutSeconds: opts.ackTimeoutSeconds === undefined ? 1800 : opts.ackTimeoutSeconds,
      autoResolveOnAlertResolve: opts.autoResolveOnAlertResolve ?? true,
      autoResolveTimeoutSeconds: opts.autoResolveTimeoutSeconds ?? null,
      automaticReviews: opts.automaticReviews ?? 'major',
    });
    await eventually(async () => (await this.query('SELECT 1 FROM services WHERE id = $1', [serviceId])).length > 0, {
      what: 'the service copy',
      timeoutMs: WAIT_MS,
    });
    return serviceId;
  }

  async createUser(
    name: string,
    email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 6)}@example.com`,
  ): Promise<{ id: string; name: string; email: string }> {
    const userId = randomUUID();
    await this.emit('user.upserted', userId, { userId, name, email, timeZone: 'Europe/Paris', role: 'responder' });
    await eventually(async () => (await this.query('SELECT 1 FROM users WHERE id = $1', [userId])).length > 0, { what: `user ${name}`, timeoutMs: WAIT_MS });
    return { id: userId, name, email };
  }

  async createTeam(name: string): Promise<string> {
    const teamId = randomUUID();
    await this.emit('team.upserted', teamId, { teamId, name, members: [] });
    await eventually(async () => (await this.query('SELECT 1 FROM teams WHERE id = $1', [teamId])).length > 0, { what: `team ${name}`, timeoutMs: WAIT_MS });
    return teamId;
  }

  /** An API client acting as a user with a role. */
  async as(userId: string, role: Role = 'responder'): Promise<Api> {
    const token = await this.tokens.issue({ userId, role, tokenId: randomUUID(), expiresInSeconds: 3600 });
    return this.api.as(token);
  }

  /** An alert.triggered as alert-ingest publishes it (keyed by alert id); returns the alert. */
  async alert(serviceId: string, over: Partial<EventInput<'alert.triggered'>> = {}): Promise<EventInput<'alert.triggered'> & { alertId: string }> {
    const alert = this.alertData(serviceId, over);
    await this.emit('alert.triggered', alert.alertId, alert);
    return alert;
  }

  alertData(serviceId: string, over: Partial<EventInput<'alert.triggered'>> = {}): EventInput<'alert.triggered'> & { alertId: string } {
    const alertId = over.alertId ?? randomUUID();
    return {
      alertId,
      serviceId,
      integrationId: null,
      dedupKey: `key-${alertId.slice(0, 8)}`,
      integrationType: 'events-api-v2',
      summary: 'Disk full on db1',
      severity: 'critical',
      source: 'db1',
      triggeredAt: this.clock.now().toISOString(),
      ...over,
    };
  }

  async resolveAlert(alert: { alertId: string; serviceId: string; dedupKey: string }): Promise<void> {
    await this.emit('alert.resolved', alert.alertId, {
      alertId: alert.alertId,
      serviceId: alert.serviceId,
      integrationId: null,
      dedupKey: alert.dedupKey,
      resolvedAt: this.clock.now().toISOString(),
    });
  }

  async incidents(query: string): Promise<any[]> {
    const res = await this.api.get(`/api/v1/incidents?${query}`);
    if (res.status !== 200) throw new Error(`list failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Waits until the service's incidents satisfy a condition, and returns them. */
  waitIncidents(serviceId: string, ok: (list: any[]) => boolean, what = 'incidents'): Promise<any[]> {
    return eventually(
      async () => {
        const list = await this.incidents(`serviceId=${serviceId}&limit=500`);
        return ok(list) ? list : undefined;
      },
      { what, timeoutMs: WAIT_MS },
    );
  }

  waitIncident(id: string, ok: (incident: any) => boolean, what = 'incident'): Promise<any> {
    return eventually(
      async () => {
        const res = await this.api.get(`/api/v1/incidents/${id}`);
        return res.status === 200 && ok(res.body) ? res.body : undefined;
      },
      { what, timeoutMs: WAIT_MS },
    );
  }

  async timeline(id: string): Promise<any[]> {
    return (await this.api.get(`/api/v1/incidents/${id}/timeline?order=asc&limit=500`)).body;
  }

  /** What incidents published about an incident, as its consumers read it from Kafka. */
  published(incidentId: string, type?: string): TappedMessage[] {
    return this.tap.messages.filter((m) => m.key === incidentId && (!type || m.json?.type === type));
  }

  waitPublished(incidentId: string, type: string, count = 1): Promise<TappedMessage[]> {
    return eventually(
      async () => {
        const found = this.published(incidentId, type);
        return found.length >= count ? found : undefined;
      },
      { what: `${count} × ${type}`, timeoutMs: WAIT_MS },
    );
  }

  query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.service.runtime.dataSource.query(sql, params);
  }

  /**
   * Waits until incidents has handled everything so far (every event read, every timer due by the
   * test clock fired, every event published) and the tap has read it, so a test can assert that
   * something did not happen. `others`: services the test runs beside it.
   */
  quiet(...others: QuietService[]): Promise<void> {
    return waitUntilQuiet(this.world, { services: [{ name: 'incidents', now: () => this.clock.now() }, ...others], taps: [this.tap] });
  }

  /** Moves the test clock; the timer runner wakes at once and fires what became due. */
  advance(minutes: number): Date {
    return this.clock.advance(minutes * 60_000);
  }
}
