import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import ical from 'ical-generator';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '#libs/clock';
import { queryRows } from '#libs/database';
import { NotFoundError } from '#libs/platform';
import { hashFeedToken, newFeedToken } from '../common/feed-tokens.js';
import { finalSchedule } from './domain/final-schedule.js';
import type { Shift } from './domain/spec.js';
import { DAY } from './domain/wall-clock.js';
import { loadSchedules, usersById } from './schedule.repository.js';

/** How much of the schedule a feed carries: two weeks back, three months ahead. */
export const FEED_PAST_DAYS = 14;
export const FEED_FUTURE_DAYS = 90;

/** Where oncall is reached from outside: PUBLIC_URL, or the address the request came in on. */
export function publicBase(publicUrl: string | undefined, req: Request): string {
  return publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function feedUrl(publicUrl: string | undefined, req: Request, kind: 'schedules' | 'users', token: string): string {
  return `${publicBase(publicUrl, req)}/ical/${kind}/${token}.ics`;
}

/**
 * iCalendar feeds of on-call shifts, per schedule and per user. Events are in UTC instants, so a
 * calendar app shows each handoff exactly where Klaxon puts it, whatever its own zone.
 */
@Injectable()
export class FeedsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private window(): { from: Date; to: Date } {
    const now = this.clock.now().getTime();
    return { from: new Date(now - FEED_PAST_DAYS * DAY), to: new Date(now + FEED_FUTURE_DAYS * DAY) };
  }

  async scheduleFeed(token: string): Promise<string> {
    const [found] = await queryRows<{ id: string }>(this.db, 'SELECT id FROM schedules WHERE feed_token_hash = $1', [hashFeedToken(token)]);
    if (!found) throw new NotFoundError('Calendar feed', 'for this URL');
    const { from, to } = this.window();
    const { row, spec } = (await loadSchedules(this.db, [found.id], from, to)).get(found.id)!;
    const shifts = finalSchedule(spec, from.getTime(), to.getTime());
    const users = await usersById(
      this.db,
      shifts.map((s) => s.userId),
    );
    return render(
      `On call: ${row.name}`,
      shifts.map((s) => ({ shift: s, scheduleId: row.id, summary: `${users.get(s.userId)?.name ?? 'Unknown user'} on call (${row.name})` })),
    );
  }

  async userFeed(token: string): Promise<string> {
    const [user] = await queryRows<{ id: string; name: string }>(this.db, 'SELECT id, name FROM users WHERE feed_token_hash = $1', [hashFeedToken(token)]);
    if (!user) throw new NotFoundError('Calendar feed', 'for this URL');
    const { from, to } = this.window();
    const ids = await queryRows<{ id: string }>(
      this.db,
      `SELECT id FROM schedules WHERE jsonb_path_exists(layers, '$[*].participants[*] ? (@ == $u)', jsonb_build_object('u', $1::text))
       UNION SELECT schedule_id FROM schedule_overrides WHERE user_id = $1::uuid AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)`,
      [user.id, from, to],
    );
    const schedules = await loadSchedules(
      this.db,
      ids.map((r) => r.id),
      from,
      to,
    );
    const events = [...schedules.values()].flatMap(({ row, spec }) =>
      finalSchedule(spec, from.getTime(), to.getTime())
        .filter((s) => s.userId === user.id)
        .map((s) => ({ shift: s, scheduleId: row.id, summary: `On call: ${row.name}` })),
    );
    return render(`${user.name}: on-call shifts`, events);
  }

  async rotateUserToken(userId: string): Promise<string> {
    const { token, hash } = newFeedToken();
    const rows = await queryRows(this.db, 'UPDATE users SET feed_token_hash = $2 WHERE id = $1 RETURNING 1', [userId, hash]);
    if (!rows.length) throw new NotFoundError('User', userId);
    return token;
  }
}

function render(name: string, events: { shift: Shift; scheduleId: string; summary: string }[]): string {
  const calendar = ical({ name, prodId: { company: 'Klaxon', product: 'oncall', language: 'EN' }, ttl: 15 * 60 });
  for (const { shift, scheduleId, summary } of events.sort((a, b) => a.shift.start - b.shift.start)) {
    calendar.createEvent({
      // Stable across fetches, so a calendar app updates an event instead of duplicating it.
      id: `${scheduleId}-${shift.userId}-${shift.start}@klaxon`,
      start: new Date(shift.start),
      end: new Date(shift.end),
      summary,
    });
  }
  return calendar.toString();
}
