import type twilio from 'twilio';
import type { ReconcileQuery, ReconcileResult, SmsMessage, SmsProvider } from './provider.js';
import { classifyTwilioError, RECONCILE_SKEW_MS, type TwilioSettings } from './twilio.js';

/** SMS through Twilio's Messages API, with a status callback per message. */
export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';
  readonly channel = 'sms';

  constructor(
    private readonly client: twilio.Twilio,
    private readonly settings: TwilioSettings,
  ) {}

  async send(m: SmsMessage): Promise<{ providerMessageId: string }> {
    try {
      const message = await this.client.messages.create({ to: m.to, from: this.settings.from, body: m.body, statusCallback: m.statusCallbackUrl });
      return { providerMessageId: message.sid };
    } catch (err) {
      throw classifyTwilioError(err);
    }
  }

  /**
   * Asks Twilio for recent messages to the number (newest first) and looks for this one: same
   * sender and body, created since the send began. Not filtered by DateSent, which a message still
   * queued at Twilio does not have yet.
   */
  async reconcile(q: ReconcileQuery<SmsMessage>): Promise<ReconcileResult> {
    try {
      const recent = await this.client.messages.list({ to: q.message.to, from: this.settings.from, limit: 50 });
      const since = q.startedAt.getTime() - RECONCILE_SKEW_MS;
      const match = recent.find((r) => r.body === q.message.body && r.dateCreated && r.dateCreated.getTime() >= since && !q.otherProviderIds.includes(r.sid));
      return match ? { outcome: 'sent', providerMessageId: match.sid } : { outcome: 'not-sent' };
    } catch (err) {
      // Twilio cannot be asked right now: let the reconcile timer try again.
      throw classifyTwilioError(err);
    }
  }
}
