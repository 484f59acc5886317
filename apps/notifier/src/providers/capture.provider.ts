import type { DataSource } from 'typeorm';
import type { Channel, ChannelProvider, MessageOf, ReconcileQuery, ReconcileResult } from './provider.js';

interface InboxEntry {
  subject: string | null;
  body: string;
  html: string | null;
  meta: Record<string, unknown>;
}

function toEntry<C extends Channel>(channel: C, m: MessageOf[C]): InboxEntry {
  switch (channel) {
    case 'email': {
      const e = m as MessageOf['email'];
      return { subject: e.subject, body: e.text, html: e.html, meta: { actions: e.actions ?? [] } };
    }
    case 'sms':
      return { subject: null, body: (m as MessageOf['sms']).body, html: null, meta: {} };
    case 'voice':
      return { subject: 'Phone call', body: (m as MessageOf['voice']).script, html: null, meta: {} };
    default: {
      const p = m as MessageOf['push'];
      return { subject: p.title, body: p.body, html: null, meta: { actions: p.actions ?? [], data: p.data, urgency: p.urgency } };
    }
  }
}

function destinationOf<C extends Channel>(channel: C, m: MessageOf[C]): string {
  return channel === 'push' ? (m as MessageOf['push']).token : (m as { to: string }).to;
}

/**
 * Capture mode: with no provider configured for a channel, its messages land in a local inbox that
 * people read at /inbox (where an SMS can be answered and a call's keys pressed) and tests read
 * over HTTP. Keyed by notification id, so a repeated send is a no-op and reconciling is exact.
 */
export class CaptureProvider<C extends Channel> implements ChannelProvider<C> {
  readonly name = 'capture';

  constructor(
    private readonly db: DataSource,
    readonly channel: C,
  ) {}

  async send(m: MessageOf[C]): Promise<{ providerMessageId: string }> {
    const e = toEntry(this.channel, m);
    const [row]: { id: string }[] = await this.db.query(
      `INSERT INTO inbox_messages (notification_id, channel, destination, subject, body, html, meta)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (notification_id) DO UPDATE SET notification_id = EXCLUDED.notification_id
       RETURNING id`,
      [m.notificationId, this.channel, destinationOf(this.channel, m), e.subject, e.body, e.html, JSON.stringify(e.meta)],
    );
    return { providerMessageId: `capture-${row!.id}` };
  }

  async reconcile(q: ReconcileQuery<MessageOf[C]>): Promise<ReconcileResult> {
    const [row]: { id: string }[] = await this.db.query('SELECT id FROM inbox_messages WHERE notification_id = $1', [q.notificationId]);
    return row ? { outcome: 'sent', providerMessageId: `capture-${row.id}` } : { outcome: 'not-sent' };
  }
}
