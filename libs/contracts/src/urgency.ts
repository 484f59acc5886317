import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { UrgencyRule } from './events.js';

/**
 * What a service's urgency rule says for an incident that triggers at `at`. Support hours are read
 * on the wall clock of the rule's zone (luxon, never a fixed offset): `days` are ISO weekdays
 * (1 = Monday … 7 = Sunday) on which the window opens at `start`; an `end` at or before `start`
 * closes it the next day (a night window). Shared so incidents (which stamps the urgency) and
 * oncall (whose dry run predicts it) read a rule the same way.
 */
export function urgencyAt(rule: z.output<typeof UrgencyRule>, at: Date): 'high' | 'low' {
  if (rule.type === 'constant') return rule.urgency;
  const local = DateTime.fromJSDate(at, { zone: rule.timeZone });
  if (!local.isValid) return rule.during === 'high' || rule.outside === 'high' ? 'high' : 'low';
  const minutes = local.hour * 60 + local.minute;
  const start = toMinutes(rule.start);
  const end = toMinutes(rule.end);
  let inside: boolean;
  if (end > start) {
    inside = rule.days.includes(local.weekday) && minutes >= start && minutes < end;
  } else {
    // A night window: open from `start` on a listed day until `end` the next morning.
    const yesterday = local.minus({ days: 1 }).weekday;
    inside = (rule.days.includes(local.weekday) && minutes >= start) || (rule.days.includes(yesterday) && minutes < end);
  }
  return inside ? rule.during : rule.outside;
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}
