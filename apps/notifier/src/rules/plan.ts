import type { Channel } from '../providers/channel.js';

export interface ContactMethodInfo {
  id: string;
  type: Channel;
  value: string;
  verified: boolean;
}

export interface RuleInfo {
  urgency: 'high' | 'low';
  contactMethodId: string;
  delayMinutes: number;
}

/** One notification a page will send: where, how, and how long after the page. */
export interface PlannedNotification {
  channel: Channel;
  destination: string;
  contactMethodId: string | null;
  delayMinutes: number;
  /** Tells apart two rules on the same contact method (SMS at 1 and again at 5 minutes). */
  ruleKey: string;
}

const ORDER: Record<Channel, number> = { push: 0, sms: 1, voice: 2, email: 3 };

/**
 * A user's notification rules for an urgency, PagerDuty style: each rule is a contact method and
 * a delay after the page. A user with no rules for the urgency gets the default: every push device
 * and their email, at once. Rules on unverified methods are skipped (a number is used only once
 * it proved it reaches the user). If nothing is left, the email is the floor: a page always goes somewhere.
 */
export function planNotifications(input: { urgency: 'high' | 'low'; rules: RuleInfo[]; methods: ContactMethodInfo[]; email: string }): PlannedNotification[] {
  const byId = new Map(input.methods.map((m) => [m.id, m]));
  const usable = input.rules
    .filter((r) => r.urgency === input.urgency)
    .map((r) => ({ rule: r, method: byId.get(r.contactMethodId) }))
    .filter((x): x is { rule: RuleInfo; method: ContactMethodInfo } => !!x.method && x.method.verified);

  let planned: PlannedNotification[] = usable.map(({ rule, method }) => ({
    channel: method.type,
    destination: method.value,
    contactMethodId: method.id,
    delayMinutes: rule.delayMinutes,
    ruleKey: String(rule.delayMinutes),
  }));
  if (planned.length === 0) {
    planned = [
      ...input.methods
        .filter((m) => m.type === 'push' && m.verified)
        .map((m) => ({ channel: 'push' as const, destination: m.value, contactMethodId: m.id, delayMinutes: 0, ruleKey: '0' })),
      { channel: 'email', destination: input.email, contactMethodId: null, delayMinutes: 0, ruleKey: '0' },
    ];
  }
  const seen = new Set<string>();
  return planned
    .filter((p) => {
      const k = `${p.channel}|${p.destination}|${p.ruleKey}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.delayMinutes - b.delayMinutes || ORDER[a.channel] - ORDER[b.channel]);
}
