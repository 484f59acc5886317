import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import type { EventData } from '#libs/contracts';
import { Outbox } from '#libs/messaging';
import { NotificationsService } from '../notifications/notifications.service.js';
import { outcomeFor, type ActionResult, type IncidentState } from './reply-text.js';

export type ResponderActionName = EventData<'responder.action'>['action'];
export type ActionSource = 'sms' | 'voice' | 'email' | 'push';

/**
 * A responder acted from their phone (SMS reply, keypress, link): each incident that the action
 * still means something for gets a responder.action event for incidents to apply, in the same
 * transaction that records the reply. Acknowledging or resolving also cancels what notifier still
 * had waiting for the incident right away, without waiting for the round trip through incidents.
 */
@Injectable()
export class ResponderActionsService {
  constructor(
    private readonly outbox: Outbox,
    private readonly notifications: NotificationsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async act(em: EntityManager, input: { userId: string; incidentIds: string[]; action: ResponderActionName; source: ActionSource }): Promise<ActionResult[]> {
    const now = this.clock.now();
    const incidents: IncidentState[] = await em.query(
      `SELECT i.id, i.number, i.title, i.status, coalesce(i.changed_by_name, u.name) AS changed_by_name
       FROM incidents i LEFT JOIN users u ON u.id = i.changed_by_user_id
       WHERE i.id = ANY($1::uuid[]) ORDER BY i.number FOR UPDATE OF i`,
      [input.incidentIds],
    );
    const [actor]: { name: string }[] = await em.query('SELECT name FROM users WHERE id = $1', [input.userId]);
    const results: ActionResult[] = [];
    for (const incident of incidents) {
      const outcome = outcomeFor(input.action, incident.status);
      results.push({ incident, outcome });
      if (outcome !== 'done') continue;
      await this.outbox.publish(em, 'responder.action', incident.id, {
        incidentId: incident.id,
        action: input.action,
        userId: input.userId,
        source: input.source,
        at: now.toISOString(),
      });
      if (input.action === 'escalate') continue;
      await this.notifications.cancelForIncident(em, incident.id);
      // Until incidents confirms, answer further replies as if it had (its event overwrites this).
      await em.query(`UPDATE incidents SET status = $2, changed_by_user_id = $3, changed_by_name = $4, changed_at = $5 WHERE id = $1`, [
        incident.id,
        input.action === 'acknowledge' ? 'acknowledged' : 'resolved',
        input.userId,
        actor?.name ?? null,
        now,
      ]);
    }
    return results;
  }
}
