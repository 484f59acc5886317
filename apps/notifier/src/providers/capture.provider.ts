import type { DataSource } from 'typeorm';
import type { EmailMessage, EmailProvider, ReconcileResult } from './provider.js';

/**
 * Capture mode: with no provider configured, every message lands in a local inbox that people
 * read at /inbox and tests read over HTTP. Keyed by notification id, so a repeated send is a no-op.
 */
export class CaptureProvider implements EmailProvider {
  readonly name = 'capture';

  constructor(private readonly db: DataSource) {}

  async send(m: EmailMessage): Promise<{ providerMessageId: string }> {
    const [row]: { id: string }[] = await this.db.query(
      `INSERT INTO inbox_messages (notification_id, channel, destination, subject, body, html)
       VALUES ($1, 'email', $2, $3, $4, $5)
       ON CONFLICT (notification_id) DO UPDATE SET notification_id = EXCLUDED.notification_id
       RETURNING id`,
      [m.notificationId, m.to, m.subject, m.text, m.html],
    );
    return { providerMessageId: `capture-${row!.id}` };
  }

  async reconcile(notificationId: string): Promise<ReconcileResult> {
    const [row]: { id: string }[] = await this.db.query('SELECT id FROM inbox_messages WHERE notification_id = $1', [notificationId]);
    return row ? { outcome: 'sent', providerMessageId: `capture-${row.id}` } : { outcome: 'not-sent' };
  }
}
