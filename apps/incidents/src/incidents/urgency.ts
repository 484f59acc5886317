import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { UrgencyRule as UrgencyRuleSchema } from '#libs/contracts';

export type UrgencyRule = z.output<typeof UrgencyRuleSchema>;
export type Urgency = 'high' | 'low';

/**
 * A new incident's urgency from its service's rule: a constant, or one urgency during support
 * hours (days 1 = Monday … 7 = Sunday, start–end wall-clock times in the rule's time zone) and
 * another outside them. A window whose end is before its start runs past midnight (22:00–06:00),
 * and belongs to the day it starts on. An unknown time zone counts as outside support hours.
 */
export function urgencyAt(rule: UrgencyRule, at: Date): Urgency {
  if (rule.type === 'constant') return rule.urgency;
  return withinSupportHours(rule, at) ? rule.during : rule.outside;
}

export function withinSupportHours(rule: Extract<UrgencyRule, { type: 'support-hours' }>, at: Date): boolean {
  const local = DateTime.fromJSDate(at, { zone: rule.timeZone });
  if (!local.isValid) return false;
  const minute = local.hour * 60 + local.minute;
  const start = toMinutes(rule.start);
  const end = toMinutes(rule.end);
  if (start === end) return rule.days.includes(local.weekday);
  if (start < end) return rule.days.includes(local.weekday) && minute >= start && minute < end;
  // Overnight: the evening part belongs to today, the early-morning part to yesterday's window.
  if (minute >= start) return rule.days.includes(local.weekday);
  if (minute < end) return rule.days.includes(local.minus({ days: 1 }).weekday);
  return false;
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}
