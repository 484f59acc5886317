import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CONFIG } from '#libs/config';
import type { NotifierConfig } from '../config.js';
import { LinksService } from '../links/links.service.js';
import type { MessageOf } from '../providers/provider.js';
import { assignReplyCode } from '../replies/reply-codes.js';
import { pageEmail, pageItem, pagePush, pageSms, pageVoiceScript, type ActionLinks, type PageItem } from './content.js';
import type { NotificationRow } from './notification.js';

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
    const items = uniqueIncidents(members);
    const incidentIds = items.map((i) => i.incidentId);
    const userId = lead.user_id!;
    const base = this.config.PUBLIC_URL;
    switch (lead.channel) {
      case 'sms': {
        const code = await assignReplyCode(em, lead.destination, userId, incidentIds, now);
        return { notificationId: lead.id, to: lead.destination, body: pageSms(items, code), statusCallbackUrl: `${base}/api/v1/twilio/sms/status?n=${lead.id}` };
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
        const each: ActionLinks[] = [];
        for (const i of items) each.push(await this.actionLinks(em, userId, [i.incidentId], 'email', now));
        const all = items.length > 1 ? await this.actionLinks(em, userId, incidentIds, 'email', now) : null;
        const content = pageEmail(items, { each, all, incident: (i) => `${base}/incidents/${i.incidentId}` });
        return { notificationId: lead.id, to: lead.destination, ...content };
      }
      case 'push': {
        const ack = await this.links.create(em, { userId, incidentIds, action: 'acknowledge', channel: 'push', now });
        const resolve = await this.links.create(em, { userId, incidentIds, action: 'resolve', channel: 'push', now });
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

  private async actionLinks(em: EntityManager, userId: string, incidentIds: string[], channel: 'email', now: Date): Promise<ActionLinks> {
    const acknowledge = await this.links.create(em, { userId, incidentIds, action: 'acknowledge', channel, now });
    const resolve = await this.links.create(em, { userId, incidentIds, action: 'resolve', channel, now });
    return { acknowledge: this.links.url(acknowledge), resolve: this.links.url(resolve) };
  }
}

/** Each incident once (a bundle may hold two pages of one incident), in incident number order. */
export function uniqueIncidents(members: NotificationRow[]): PageItem[] {
  const seen = new Map<string, PageItem>();
  for (const m of members) if (!seen.has(m.page.incidentId)) seen.set(m.page.incidentId, pageItem(m.page));
  return [...seen.values()].sort((a, b) => a.number - b.number);
}
