import { Body, Controller, Header, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import twilio from 'twilio';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { DeliveryService, type DeliveryReport } from '../notifications/delivery.service.js';
import { gatherTwiml, sayTwiml } from '../providers/twilio-voice.provider.js';
import { RepliesService } from './replies.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';

const Ref = z.strictObject({ n: z.uuid({ message: 'n must be a notification id' }) });
// Twilio sends many more fields than these, and adds new ones: read what we need, keep the rest.
const InboundSms = z.looseObject({ MessageSid: z.string().min(1).max(64), From: z.string().min(1).max(64), Body: z.string().max(1600).default('') });
const SmsStatus = z.looseObject({ MessageSid: z.string().min(1).max(64), MessageStatus: z.string().min(1).max(32), ErrorCode: z.string().max(16).optional() });
const CallStatus = z.looseObject({
  CallSid: z.string().min(1).max(64),
  CallStatus: z.string().min(1).max(32),
  AnsweredBy: z.string().max(32).optional(),
  ErrorCode: z.string().max(16).optional(),
});
const Gather = z.looseObject({ Digits: z.string().max(32).default(''), CallSid: z.string().min(1).max(64).optional() });

const SMS_STATUS: Record<string, DeliveryReport['outcome']> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};
const CALL_STATUS: Record<string, DeliveryReport['outcome']> = {
  completed: 'delivered',
  busy: 'unanswered',
  'no-answer': 'unanswered',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * Twilio's webhooks: incoming SMS (replies), message and call status callbacks, and the keys
 * pressed during a call. All signature-verified; answers are TwiML.
 */
@Controller('api/v1/twilio')
@Public()
@UseGuards(TwilioSignatureGuard)
export class TwilioWebhooksController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly replies: RepliesService,
    private readonly delivery: DeliveryService,
  ) {}

  @Post('sms/inbound')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  async inboundSms(@Body({ schema: InboundSms }) b: z.output<typeof InboundSms>): Promise<string> {
    const reply = await this.replies.onSms({ provider: 'twilio', messageId: b.MessageSid, from: b.From, body: b.Body });
    const r = new twilio.twiml.MessagingResponse();
    r.message(reply);
    return r.toString();
  }

  @Post('sms/status')
  @HttpCode(204)
  async smsStatus(@Query({ schema: Ref }) q: z.output<typeof Ref>, @Body({ schema: SmsStatus }) b: z.output<typeof SmsStatus>): Promise<void> {
    const outcome = SMS_STATUS[b.MessageStatus];
    if (!outcome) return;
    const detail = b.ErrorCode ? `Twilio error ${b.ErrorCode} (${b.MessageStatus})` : null;
    await this.db.transaction((em) => this.delivery.onDeliveryReport(em, { notificationId: q.n, providerMessageId: b.MessageSid, outcome, detail }));
  }

  @Post('voice/status')
  @HttpCode(204)
  async callStatus(@Query({ schema: Ref }) q: z.output<typeof Ref>, @Body({ schema: CallStatus }) b: z.output<typeof CallStatus>): Promise<void> {
    const outcome = CALL_STATUS[b.CallStatus];
    if (!outcome) return;
    const detail =
      outcome === 'unanswered'
        ? b.CallStatus === 'busy'
          ? 'the line was busy'
          : 'nobody answered'
        : b.ErrorCode
          ? `Twilio error ${b.ErrorCode} (${b.CallStatus})`
          : null;
    await this.db.transaction((em) =>
      this.delivery.onDeliveryReport(em, { notificationId: q.n, providerMessageId: b.CallSid, outcome, detail, answeredBy: b.AnsweredBy ?? null }),
    );
  }

  @Post('voice/gather')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml')
  async gather(@Query({ schema: Ref }) q: z.output<typeof Ref>, @Body({ schema: Gather }) b: z.output<typeof Gather>): Promise<string> {
    const answer = await this.replies.onVoiceKey(q.n, b.Digits, b.CallSid);
    return answer.hangUp ? sayTwiml(answer.say) : gatherTwiml(answer.script, answer.gatherUrl, answer.say ?? undefined);
  }
}
