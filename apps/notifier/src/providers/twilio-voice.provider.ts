import twilio from 'twilio';
import type { ReconcileQuery, ReconcileResult, VoiceMessage, VoiceProvider } from './provider.js';
import { classifyTwilioError, RECONCILE_SKEW_MS, type TwilioSettings } from './twilio.js';

/**
 * Phone calls through Twilio's Calls API: the TwiML reads the incident and gathers a key; the final
 * status (completed, busy, no-answer, failed) and who answered (a person or a machine) come back
 * to the status callback.
 */
export class TwilioVoiceProvider implements VoiceProvider {
  readonly name = 'twilio';
  readonly channel = 'voice';

  constructor(
    private readonly client: twilio.Twilio,
    private readonly settings: TwilioSettings,
  ) {}

  async send(m: VoiceMessage): Promise<{ providerMessageId: string }> {
    try {
      const call = await this.client.calls.create({
        to: m.to,
        from: this.settings.from,
        twiml: gatherTwiml(m.script, m.gatherUrl),
        statusCallback: m.statusCallbackUrl,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
        // Ring long enough for a sleeping person, not so long that voicemail always wins.
        timeout: 30,
        ...(m.machineDetection ? { machineDetection: 'Enable' } : {}),
      });
      return { providerMessageId: call.sid };
    } catch (err) {
      throw classifyTwilioError(err);
    }
  }

  /**
   * A call to this number from our number, created since the send began, that no other message
   * recorded as its own (a verification call, another page) is this call. Twilio's call list does
   * not say which request made a call, so two such calls leave the outcome unknown.
   */
  async reconcile(q: ReconcileQuery<VoiceMessage>): Promise<ReconcileResult> {
    try {
      const recent = await this.client.calls.list({ to: q.message.to, from: this.settings.from, limit: 20 });
      const since = q.startedAt.getTime() - RECONCILE_SKEW_MS;
      const candidates = recent.filter((c) => c.dateCreated && c.dateCreated.getTime() >= since && !q.otherProviderIds.includes(c.sid));
      if (candidates.length > 1) return { outcome: 'unknown' };
      return candidates[0] ? { outcome: 'sent', providerMessageId: candidates[0].sid } : { outcome: 'not-sent' };
    } catch (err) {
      throw classifyTwilioError(err);
    }
  }
}

/**
 * What a call plays: the script inside a one-key Gather that posts to `gatherUrl`; said twice if
 * no key comes, then goodbye. Also what the gather callback answers with for "repeat".
 */
export function gatherTwiml(script: string, gatherUrl: string, prefix?: string): string {
  const r = new twilio.twiml.VoiceResponse();
  if (prefix) r.say(prefix);
  for (let i = 0; i < 2; i++) {
    const g = r.gather({ numDigits: 1, action: gatherUrl, method: 'POST', timeout: 8, actionOnEmptyResult: false });
    g.say(script);
  }
  r.say('No key was pressed. Goodbye.');
  return r.toString();
}

/** A short spoken answer, then hang up. */
export function sayTwiml(text: string): string {
  const r = new twilio.twiml.VoiceResponse();
  r.say(text);
  r.hangup();
  return r.toString();
}
