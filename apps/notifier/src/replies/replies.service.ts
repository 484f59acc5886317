import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '#libs/database';
import type { DataSource, EntityManager } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { normalizePhone } from '../contact-methods/phone.js';
import { VOICE_KEYS } from '../notifications/content.js';
import { DeliveryService } from '../notifications/delivery.service.js';
import type { VoiceMessage } from '../providers/provider.js';
import { findReplyCode, latestReplyCode } from './reply-codes.js';
import { parseReply, replyHelp, type ReplyAction } from './reply-parser.js';
import { describeResults } from './reply-text.js';
import { ResponderActionsService } from './responder-actions.service.js';

/** What a call says after a key: a last sentence and hang up, or the page again. */
export type VoiceAnswer = { say: string; hangUp: true } | { say: string | null; hangUp: false; script: string; gatherUrl: string };

/**
 * Answers from phones, whatever carried them (Twilio's webhooks or the capture inbox): SMS replies
 * with reply codes and STOP/START, and keys pressed during a call.
 */
@Injectable()
export class RepliesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly actions: ResponderActionsService,
    private readonly delivery: DeliveryService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * An SMS from a phone: acts on it and returns the answer to text back. A message the provider
   * delivers twice (same id) acts once and gets the same answer.
   */
  async onSms(input: { provider: string; messageId: string; from: string; body: string }): Promise<string> {
    const from = toE164(input.from);
    return this.db.transaction(async (em) => {
      const [seen]: { reply: string }[] = await em.query('SELECT reply FROM inbound_messages WHERE provider = $1 AND provider_message_id = $2', [
        input.provider,
        input.messageId,
      ]);
      if (seen) return seen.reply;
      const reply = await this.answerSms(em, from, input.body);
      await em.query(`INSERT INTO inbound_messages (provider, provider_message_id, from_number, body, reply, received_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
        input.provider,
        input.messageId,
        from,
        input.body.slice(0, 1600),
        reply,
        this.clock.now(),
      ]);
      return reply;
    });
  }

  private async answerSms(em: EntityManager, from: string, body: string): Promise<string> {
    const parsed = parseReply(body);
    switch (parsed.kind) {
      case 'stop':
        await em.query('INSERT INTO sms_opt_outs (number, opted_out_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [from, this.clock.now()]);
        return 'Klaxon: you will get no more SMS on this number (calls, push and email still reach you). Reply START to receive SMS again.';
      case 'start':
        await em.query('DELETE FROM sms_opt_outs WHERE number = $1', [from]);
        return 'Klaxon: SMS to this number are back on.';
      case 'help':
        return replyHelp(await latestReplyCode(em, from));
      case 'unknown':
        return `Klaxon did not understand "${body.trim().slice(0, 40)}". ${replyHelp(await latestReplyCode(em, from))}`;
    }
    const row = await findReplyCode(em, from, parsed.code);
    if (!row) {
      if (parsed.code === null) return 'Klaxon: there is no page to this number to answer.';
      const open: { code: number }[] = await em.query('SELECT code FROM reply_codes WHERE destination = $1 ORDER BY last_sent_at DESC LIMIT 5', [from]);
      return `Klaxon: ${parsed.code} is not a code of a page to this number.${open.length ? ` Recent codes: ${open.map((o) => o.code).join(', ')}.` : ''}`;
    }
    const results = await this.actions.act(em, { userId: row.user_id, incidentIds: row.incident_ids, action: parsed.action, source: 'sms' });
    return results.length ? describeResults(parsed.action, results) : 'Klaxon: that incident is no longer known here.';
  }

  /** A key pressed during a call that carried notification `leadId`. */
  /**
   * A key pressed in a call. Each key acts once per call: the same callback again (Twilio
   * retrying, or a replay of a signed request) is answered as the first was, without acting again —
   * an escalation is not repeated by a replay.
   */
  async onVoiceKey(leadId: string, digits: string, callSid?: string): Promise<VoiceAnswer> {
    return this.db.transaction(async (em) => {
      const members = await this.delivery.bundle(em, leadId);
      const lead = members[0];
      if (!lead || lead.kind !== 'page') return { say: 'Goodbye.', hangUp: true };
      const message = lead.message as VoiceMessage;
      const action = KEY_ACTIONS[digits.trim()];
      if (digits.trim() === VOICE_KEYS.repeat) return { say: null, hangUp: false, script: message.script, gatherUrl: message.gatherUrl };
      if (!action) return { say: 'That key does nothing.', hangUp: false, script: message.script, gatherUrl: message.gatherUrl };
      const pressId = callSid ? `${callSid}:${digits.trim()}` : undefined;
      if (pressId) {
        const claimed = await em.query(
          `INSERT INTO inbound_messages (provider, provider_message_id, from_number, body, reply, received_at) VALUES ('twilio-voice', $1, '', $2, '', $3)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [pressId, digits.trim(), this.clock.now()],
        );
        if (!claimed.length) {
          const [seen] = await queryRows<{ reply: string }>(
            em,
            `SELECT reply FROM inbound_messages WHERE provider = 'twilio-voice' AND provider_message_id = $1`,
            [pressId],
          );
          return { say: seen?.reply || 'Goodbye.', hangUp: true };
        }
      }
      const incidentIds = [...new Set(members.map((m) => m.incident_id!))];
      const results = await this.actions.act(em, { userId: lead.user_id!, incidentIds, action, source: 'voice' });
      const say = `${describeResults(action, results)} Goodbye.`.replace(/#/g, 'incident ');
      if (pressId) await em.query(`UPDATE inbound_messages SET reply = $2 WHERE provider = 'twilio-voice' AND provider_message_id = $1`, [pressId, say]);
      return { say, hangUp: true };
    });
  }
}

const KEY_ACTIONS: Record<string, ReplyAction> = {
  [VOICE_KEYS.acknowledge]: 'acknowledge',
  [VOICE_KEYS.resolve]: 'resolve',
  [VOICE_KEYS.escalate]: 'escalate',
};

function toE164(from: string): string {
  const r = normalizePhone(from);
  return 'e164' in r ? r.e164 : from.trim();
}
