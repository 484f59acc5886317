import { DateTime } from 'luxon';
import type { z } from 'zod';
import type { UrgencyRule } from './events.js';

/**
 * What a service's urgency rule says for an incident that triggers at `at`. Support hours are read
 * on the wall clock of the rule's zone (luxon, never a fixed offset): `days` are ISO weekdays
 * (1 = Monday … 7 = Sunday) on which the window opens at `start`; an `end` before `start` closes it
 * the next morning (a night window, belonging to the day it starts on); `end` equal to `start`
 * means the whole of each listed day. An unknown zone counts as outside support hours. Shared so
 * incidents (which stamps the urgency) and oncall (whose dry run predicts it) read a rule alike.
 */
export function urgencyAt(rule: z.output<typeof UrgencyRule>, at: Date): 'high' | 'low' {
  if (rule.type === 'constant') return rule.urgency;
  return withinSupportHours(rule, at) ? rule.during : rule.outside;
}

export function withinSupportHours(rule: Extract<z.output<typeof UrgencyRule>, { type: 'support-hours' }>, at: Date): boolean {
  const local = DateTime.fromJSDate(at, { zone: rule.timeZone });
  if (!local.isValid) return false;
  const minute = local.hour * 60 + local.minute;
  const start = toMinutes(rule.start);
  const end = toMinutes(rule.end);
  if (start === end) return rule.days.includes(local.weekday);
  if (start < end) return rule.days.includes(local.weekday) && minute >= start && minute < end;
  if (minute >= start) return rule.days.includes(local.weekday);
  if (minute < end) return rule.days.includes(local.minus({ days: 1 }).weekday);
  return false;
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}
