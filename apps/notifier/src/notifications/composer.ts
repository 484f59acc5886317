import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CONFIG } from '#libs/config';
import type { NotifierConfig } from '../config.js';
import { LinksService } from '../links/links.service.js';
import type { MessageOf } from '../providers/provider.js';
import { assignReplyCode } from '../replies/reply-codes.js';
import { pageEmail, pageItem, pagePush, pageSms, pageVoiceScript, statusMessage, type ActionLinks, type PageItem } from './content.js';
import type { NotificationRow, StatusUpdate } from './notification.js';

/**
 * Turns the notifications going out together (one, or a bundle to the same person and channel)
 * into the provider message: the words, the SMS reply code, the signed action links, the
 * callback URLs. Runs in the transaction that marks them sending, so codes and links exist iff
 * the message is sent.
 */
@Injectable()
export class MessageComposer {
  constructor(
    private readonly links: LinksService,
    @Inject(CONFIG) private readonly config: NotifierConfig,
  ) {}

  async compose(em: EntityManager, members: NotificationRow[], now: Date): Promise<MessageOf[keyof MessageOf]> {
    const lead = members[0]!;
    if (lead.kind === 'status') return this.composeStatus(members);
    const items = uniqueIncidents(members);
    const incidentIds = items.map((i) => i.incidentId);
    const userId = lead.user_id!;
    const base = this.config.PUBLIC_URL;
    switch (lead.channel) {
      case 'sms': {
        const code = await assignReplyCode(em, lead.destination, userId, incidentIds, now);
        return {
          notificationId: lead.id,
          to: lead.destination,
          body: pageSms(items, code),
          statusCallbackUrl: `${base}/api/v1/twilio/sms/status?n=${lead.id}`,
        };
      }
      case 'voice':
        return {
          notificationId: lead.id,
          to: lead.destination,
          script: pageVoiceScript(items),
          gatherUrl: `${base}/api/v1/twilio/voice/gather?n=${lead.id}`,
          statusCallbackUrl: `${base}/api/v1/twilio/voice/status?n=${lead.id}`,
          machineDetection: this.config.VOICE_MACHINE_DETECTION,
        };
      case 'email': {
        // Acknowledge and resolve for each incident, and for all of them when there are several.
        const groups = items.length > 1 ? [...items.map((i) => [i.incidentId]), incidentIds] : [incidentIds];
        const tokens = await this.links.create(
          em,
          groups.flatMap((ids) => (['acknowledge', 'resolve'] as const).map((action) => ({ userId, incidentIds: ids, action, channel: 'email' as const }))),
          now,
        );
        const pairs: ActionLinks[] = groups.map((_, g) => ({ acknowledge: this.links.url(tokens[2 * g]!), resolve: this.links.url(tokens[2 * g + 1]!) }));
        const content = pageEmail(items, {
          each: pairs.slice(0, items.length),
          all: items.length > 1 ? pairs[items.length]! : null,
          incident: (i) => this.config.INCIDENT_URL_TEMPLATE?.replace('{id}', i.incidentId).replace('{number}', String(i.number)) ?? null,
        });
        return { notificationId: lead.id, to: lead.destination, ...content };
      }
      case 'push': {
        const [ack, resolve] = (await this.links.create(
          em,
          (['acknowledge', 'resolve'] as const).map((action) => ({ userId, incidentIds, action, channel: 'push' as const })),
          now,
        )) as [string, string];
        const { title, body } = pagePush(items);
        const high = items.some((i) => i.urgency === 'high');
        return {
          notificationId: lead.id,
          token: lead.destination,
          title,
          body,
          urgency: high ? 'high' : 'low',
          critical: this.config.PUSH_IOS_CRITICAL,
          data: {
            kind: 'page',
            notificationId: lead.id,
            ...(items.length === 1 ? { incidentId: items[0]!.incidentId, incidentNumber: String(items[0]!.number) } : {}),
            incidentIds: incidentIds.join(','),
            incidentNumbers: items.map((i) => i.number).join(','),
            serviceName: [...new Set(items.map((i) => i.serviceName))].join(', '),
            urgency: high ? 'high' : 'low',
            acknowledgeToken: ack,
            resolveToken: resolve,
            acknowledgeUrl: this.links.url(ack),
            resolveUrl: this.links.url(resolve),
          },
          actions: [
            { label: items.length > 1 ? `Acknowledge all ${items.length}` : 'Acknowledge', url: this.links.url(ack) },
            { label: items.length > 1 ? `Resolve all ${items.length}` : 'Resolve', url: this.links.url(resolve) },
          ],
        };
      }
    }
  }

  private composeStatus(members: NotificationRow[]): MessageOf[keyof MessageOf] {
    const lead = members[0]!;
    const updates = members.map((m) => m.page as unknown as StatusUpdate).sort((a, b) => a.incidentNumber - b.incidentNumber);
    const m = statusMessage(updates.map((u) => u.line));
    switch (lead.channel) {
      case 'sms':
        return {
          notificationId: lead.id,
          to: lead.destination,
          body: m.sms,
          statusCallbackUrl: `${this.config.PUBLIC_URL}/api/v1/twilio/sms/status?n=${lead.id}`,
        };
      case 'push':
        return {
          notificationId: lead.id,
          token: lead.destination,
          title: m.title,
          body: updates.map((u) => u.line).join('\n'),
          urgency: 'low',
          critical: false,
          data: { kind: 'status', incidentIds: updates.map((u) => u.incidentId).join(','), incidentNumbers: updates.map((u) => u.incidentNumber).join(',') },
        };
      case 'email':
        return { notificationId: lead.id, to: lead.destination, subject: m.subject, text: m.text, html: m.html };
      default:
        throw new Error(`status updates are not sent by ${lead.channel}`);
    }
  }
}

/** Each incident once (a bundle may hold two pages of one incident), in incident number order. */
export function uniqueIncidents(members: NotificationRow[]): PageItem[] {
  const seen = new Map<string, PageItem>();
  for (const m of members) if (!seen.has(m.page.incidentId)) seen.set(m.page.incidentId, pageItem(m.page));
  return [...seen.values()].sort((a, b) => a.number - b.number);
}
