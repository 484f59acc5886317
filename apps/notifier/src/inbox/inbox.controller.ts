import { Body, Controller, Get, Header, HttpCode, Inject, NotFoundException, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Public } from '#libs/auth';
import { CLOCK, type Clock } from '#libs/clock';
import type { Channel } from '../providers/channel.js';
import { ProviderRegistry } from '../providers/providers.js';
import { RepliesService, type VoiceAnswer } from '../replies/replies.service.js';
import { InboxAccessGuard } from './inbox-access.guard.js';
import { renderInbox, type InboxMessage } from './inbox-page.js';

const InboxQuery = z.strictObject({
  to: z.string().max(4096).optional(),
  channel: z.enum(['email', 'sms', 'voice', 'push']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const SmsReply = z.strictObject({
  from: z.string().trim().min(3).max(64),
  body: z.string().max(1600),
});
const Keys = z.strictObject({
  digits: z
    .string()
    .trim()
    .regex(/^[0-9*#]{1,8}$/, 'must be the key(s) pressed, e.g. 4'),
});
const NotificationId = z.uuid({ message: 'must be a notification id' });

/**
 * The capture inbox: what Klaxon would have sent on each channel that has no provider set up,
 * readable by a person at /inbox and by tests at /api/v1/inbox. There an SMS can be answered as if
 * from the phone and a call's keys pressed, which act exactly as Twilio's webhooks would. It is
 * for local use and public there, so a new user sees (and acknowledges) their first page without
 * a token; with NODE_ENV=production it is off unless CAPTURE_INBOX=admin (InboxAccessGuard); with
 * real providers configured it holds nothing and answers nothing.
 */
@Controller()
@Public()
@UseGuards(InboxAccessGuard)
export class InboxController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly providers: ProviderRegistry,
    private readonly replies: RepliesService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('api/v1/inbox')
  list(@Query({ schema: InboxQuery }) q: z.output<typeof InboxQuery>): Promise<InboxMessage[]> {
    return this.query(q);
  }

  @Get('inbox')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(@Query({ schema: InboxQuery }) q: z.output<typeof InboxQuery>): Promise<string> {
    return renderInbox(await this.query(q), { canReplySms: this.providers.isCapture('sms'), canPressKeys: this.providers.isCapture('voice') });
  }

  /** Answers as if the phone `from` had sent `body`; returns (and records) the reply it gets. */
  @Post('api/v1/inbox/sms-replies')
  @HttpCode(200)
  async replyApi(@Body({ schema: SmsReply }) b: z.output<typeof SmsReply>): Promise<{ reply: string }> {
    return { reply: await this.smsReply(b) };
  }

  @Post('inbox/sms-replies')
  async replyForm(@Body({ schema: SmsReply }) b: z.output<typeof SmsReply>, @Res() res: Response): Promise<void> {
    await this.smsReply(b);
    res.redirect(303, '../inbox');
  }

  /** Presses keys during a captured call, as the person who answered it would. */
  @Post('api/v1/inbox/calls/:id/keys')
  @HttpCode(200)
  keysApi(@Param('id', { schema: NotificationId }) id: string, @Body({ schema: Keys }) b: z.output<typeof Keys>): Promise<VoiceAnswer> {
    return this.pressKeys(id, b.digits);
  }

  @Post('inbox/calls/:id/keys')
  async keysForm(@Param('id', { schema: NotificationId }) id: string, @Body({ schema: Keys }) b: z.output<typeof Keys>, @Res() res: Response): Promise<void> {
    await this.pressKeys(id, b.digits);
    res.redirect(303, '../../../inbox');
  }

  private async smsReply(b: z.output<typeof SmsReply>): Promise<string> {
    this.requireCapture('sms', 'SMS replies come through Twilio');
    const reply = await this.replies.onSms({ provider: 'capture', messageId: randomUUID(), from: b.from, body: b.body });
    await this.record('sms', b.from, b.body, 'in');
    await this.record('sms', b.from, reply, 'out');
    return reply;
  }

  private async pressKeys(id: string, digits: string): Promise<VoiceAnswer> {
    this.requireCapture('voice', 'keys pressed during calls come through Twilio');
    const [call]: { destination: string }[] = await this.db.query(`SELECT destination FROM inbox_messages WHERE notification_id = $1 AND channel = 'voice'`, [
      id,
    ]);
    if (!call) throw new NotFoundException(`no captured call ${id}`);
    const answer = await this.replies.onVoiceKey(id, digits);
    await this.record('voice', call.destination, `Pressed ${digits}`, 'in');
    await this.record(
      'voice',
      call.destination,
      answer.hangUp ? answer.say : [answer.say, answer.script].filter(Boolean).join(' '),
      'out',
      answer.hangUp ? {} : { replayOf: id },
    );
    return answer;
  }

  private requireCapture(channel: Channel, why: string): void {
    if (!this.providers.isCapture(channel)) throw new NotFoundException(`The inbox answers only in capture mode; ${why} here`);
  }

  private async record(channel: Channel, destination: string, body: string, direction: 'in' | 'out', meta: object = {}): Promise<void> {
    await this.db.query(`INSERT INTO inbox_messages (channel, destination, body, direction, meta, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)`, [
      channel,
      destination,
      body,
      direction,
      JSON.stringify(meta),
      this.clock.now(),
    ]);
  }

  private query(q: z.output<typeof InboxQuery>): Promise<InboxMessage[]> {
    return this.db.query(
      `SELECT id, notification_id, channel, direction, destination, subject, body, meta, created_at FROM inbox_messages
       WHERE ($1::text IS NULL OR destination = $1) AND ($2::text IS NULL OR channel = $2) ORDER BY id DESC LIMIT $3`,
      [q.to ?? null, q.channel ?? null, q.limit],
    );
  }
}
