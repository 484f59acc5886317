import { randomUUID } from 'node:crypto';
import { OffsetClock } from '#libs/clock';
import { eventually, expectOk, TestWorld, type Api, type KafkaTap } from '#libs/testing';
import { oncallService } from '../src/service.js';
import { ready, serviceWithPolicy, user } from './helpers.js';

/**
 * Teams, schedules, overrides, calendar feeds, "who is on call" and the dry run, through oncall's
 * public HTTP API over a real database. The clock starts at Monday 2024-03-04 12:00 UTC.
 */
describe('oncall directory and schedules API', () => {
  const world = new TestWorld();
  const clock = new OffsetClock();
  let api: Api;
  let directory: KafkaTap;
  let ana: { id: string; name: string };
  let ben: { id: string; name: string };
  let cy: { id: string; name: string };

  beforeAll(async () => {
    clock.set(new Date('2024-03-04T12:00:00Z'));
    const oncall = await world.start(oncallService, { clock });
    api = oncall.api;
    await ready(api);
    directory = await world.tap('directory');
    [ana, ben, cy] = [await user(api, 'Ana'), await user(api, 'Ben'), await user(api, 'Cy')];
  });
  afterAll(() => world.close());

  const ical = (t: string): string => `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}.000Z`;

  const newYorkDaily = () => ({
    name: `NY primary ${randomUUID().slice(0, 6)}`,
    timeZone: 'America/New_York',
    layers: [{ name: 'daily', participants: [ana.id, ben.id], turn: { unit: 'days', count: 1 }, startDate: '2024-03-01', handoffTime: '09:00' }],
  });

  it('computes the final schedule across spring forward, with overrides on top', async () => {
    const schedule = await expectOk(api.post('/api/v1/schedules', newYorkDaily()));
    // Turns from 1 March: Ana on odd days, Ben on even days. The 9 March turn starts at 09:00 EST
    // (14:00Z) and ends at 09:00 EDT (13:00Z): 23 hours.
    const res = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/shifts?from=2024-03-09T14:00:00Z&to=2024-03-11T13:00:00Z`));
    expect(res.shifts.map((s: any) => [s.userName, s.start, s.end])).toEqual([
      ['Ana', '2024-03-09T14:00:00.000Z', '2024-03-10T13:00:00.000Z'],
      ['Ben', '2024-03-10T13:00:00.000Z', '2024-03-11T13:00:00.000Z'],
    ]);
    expect(res.gaps).toEqual([]);

    const override = await expectOk(
      api.post(`/api/v1/schedules/${schedule.id}/overrides`, { userId: cy.id, start: '2024-03-10T15:00:00Z', end: '2024-03-10T18:00:00Z' }),
    );
    const after = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/shifts?from=2024-03-10T13:00:00Z&to=2024-03-11T13:00:00Z`));
    expect(after.shifts.map((s: any) => [s.userName, s.start, s.end])).toEqual([
      ['Ben', '2024-03-10T13:00:00.000Z', '2024-03-10T15:00:00.000Z'],
      ['Cy', '2024-03-10T15:00:00.000Z', '2024-03-10T18:00:00.000Z'],
      ['Ben', '2024-03-10T18:00:00.000Z', '2024-03-11T13:00:00.000Z'],
    ]);
    expect(after.overrides).toEqual([expect.objectContaining({ id: override.id, userId: cy.id })]);

    const onCall = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/on-call?at=2024-03-10T16:00:00Z`));
    expect(onCall.onCall).toMatchObject({ userId: cy.id, userName: 'Cy', start: '2024-03-10T15:00:00.000Z', end: '2024-03-10T18:00:00.000Z' });

    // Overlapping overrides of one user are refused; of another user they are fine (the later wins).
    const clash = await api.post(`/api/v1/schedules/${schedule.id}/overrides`, { userId: cy.id, start: '2024-03-10T17:00:00Z', end: '2024-03-10T19:00:00Z' });
    expect(clash.status).toBe(400);
    expect(clash.body.message).toContain('Cy already has an override on this schedule from 2024-03-10T15:00:00.000Z to 2024-03-10T18:00:00.000Z');
    await expectOk(api.post(`/api/v1/schedules/${schedule.id}/overrides`, { userId: ana.id, start: '2024-03-10T17:00:00Z', end: '2024-03-10T19:00:00Z' }));
    const later = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/on-call?at=2024-03-10T17:30:00Z`));
    expect(later.onCall.userId).toBe(ana.id);

    await expectOk(api.delete(`/api/v1/schedules/${schedule.id}/overrides/${override.id}`));
    const restored = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/on-call?at=2024-03-10T16:00:00Z`));
    expect(restored.onCall.userId).toBe(ben.id);
  });

  it('reports coverage gaps in the next days', async () => {
    const schedule = await expectOk(
      api.post('/api/v1/schedules', {
        ...newYorkDaily(),
        layers: [{ ...newYorkDaily().layers[0], restriction: { type: 'weekly', windows: [{ startDay: 1, startTime: '09:00', endDay: 5, endTime: '17:00' }] } }],
      }),
    );
    const res = await expectOk(api.get(`/api/v1/schedules/${schedule.id}/gaps?days=7&from=2024-03-04T12:00:00Z`));
    // From Monday 12:00Z (07:00 EST): Mon 07:00–09:00 EST, then Fri 17:00 EST → Mon 09:00 EDT (clocks change on Sunday).
    expect(res.gaps).toEqual([
      { start: '2024-03-04T12:00:00.000Z', end: '2024-03-04T14:00:00.000Z' },
      { start: '2024-03-08T22:00:00.000Z', end: '2024-03-11T12:00:00.000Z' },
    ]);
  });

  it('answers bad schedules and overrides with 400s that say what to fix', async () => {
    const bad = async (body: unknown, path = '/api/v1/schedules') => {
      const res = await api.post(path, body);
      expect(res.status).toBe(400);
      return res.body.message as string;
    };
    expect(await bad({ ...newYorkDaily(), timeZone: 'America/Gotham' })).toContain('timeZone: must be an IANA time zone');
    expect(await bad({ ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], participants: [] }] })).toContain('layer "daily" has no participants');
    expect(
      await bad({ ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], restriction: { type: 'daily', windows: [{ start: '09:00', end: '09:00' }] } }] }),
    ).toContain('never opens');
    expect(await bad({ ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], restriction: { type: 'weekly', windows: [] } }] })).toContain(
      'a restriction needs at least one window',
    );
    expect(await bad({ ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], handoffTime: '25:00' }] })).toContain(
      'handoffTime: must be a time of day HH:mm',
    );
    expect(await bad({ ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], participants: [randomUUID()] }] })).toContain('Unknown participant');
    const schedule = await expectOk(api.post('/api/v1/schedules', newYorkDaily()));
    expect(await bad({ userId: ana.id, start: '2024-03-10T18:00:00Z', end: '2024-03-10T15:00:00Z' }, `/api/v1/schedules/${schedule.id}/overrides`)).toContain(
      'end: end must be after start',
    );
    const range = await api.get(`/api/v1/schedules/${schedule.id}/shifts?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(range.status).toBe(400);
    expect(range.body.message).toContain('a range spans at most 366 days');
  });

  it('serves iCal feeds per schedule and per user behind secret URLs only', async () => {
    const schedule = await expectOk(api.post('/api/v1/schedules', newYorkDaily()));
    const { url } = await expectOk(api.post(`/api/v1/schedules/${schedule.id}/feed`));
    const path = new URL(url).pathname;
    expect(path).toMatch(/^\/ical\/schedules\/[A-Za-z0-9_-]{43}\.ics$/);
    const feed = await api.as(null).get(path);
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toContain('text/calendar');
    expect(feed.body).toContain('BEGIN:VCALENDAR');
    // The feed carries the final schedule from two weeks back to 90 days ahead, as UTC instants.
    const events = [...(feed.body as string).matchAll(/DTSTART:(\w+)\r?\nDTEND:(\w+)\r?\nSUMMARY:(\w+) on call/g)].map((m) => [ical(m[1]!), ical(m[2]!), m[3]]);
    const now = clock.now().getTime();
    const shifts = await expectOk(
      api.get(
        `/api/v1/schedules/${schedule.id}/shifts?from=${new Date(now - 14 * 86_400_000).toISOString()}&to=${new Date(now + 90 * 86_400_000).toISOString()}`,
      ),
    );
    expect(events.length).toBeGreaterThan(90);
    // The first event starts at the window's edge (a moment earlier than our query), so compare from the second.
    expect(events.slice(1, -1)).toEqual(shifts.shifts.slice(1, -1).map((s: any) => [s.start, s.end, s.userName]));

    // A new URL revokes the old one; a guessed one finds nothing.
    await expectOk(api.post(`/api/v1/schedules/${schedule.id}/feed`));
    expect((await api.as(null).get(path)).status).toBe(404);
    expect((await api.as(null).get('/ical/schedules/not-a-token.ics')).status).toBe(404);

    // A responder makes their own feed, not someone else's.
    const token = (await expectOk(api.post(`/api/v1/users/${ana.id}/tokens`, {}))).token;
    const asAna = api.as(token);
    expect((await asAna.post(`/api/v1/users/${ben.id}/feed`)).status).toBe(403);
    const mine = await expectOk(asAna.post(`/api/v1/users/${ana.id}/feed`));
    const anaFeed = await api.as(null).get(new URL(mine.url).pathname);
    expect(anaFeed.status).toBe(200);
    expect(anaFeed.body).toContain('SUMMARY:On call: NY primary');
    expect(anaFeed.body).not.toContain('Ben');
  });

  it('keeps teams with roles, announces them, and pages only managers and responders', async () => {
    const team = await expectOk(
      api.post('/api/v1/teams', {
        name: `Payments ${randomUUID().slice(0, 6)}`,
        members: [
          { userId: ana.id, role: 'manager' },
          { userId: ben.id, role: 'observer' },
        ],
      }),
    );
    expect(team.members.map((m: any) => [m.name, m.role])).toEqual([
      ['Ana', 'manager'],
      ['Ben', 'observer'],
    ]);
    const announced = await eventually(async () => directory.ofType('team.upserted').find((m) => m.json!.data.teamId === team.id), { what: 'team.upserted' });
    expect(announced.json!.data.members).toEqual([
      { userId: ana.id, role: 'manager' },
      { userId: ben.id, role: 'observer' },
    ]);
    expect((await api.post('/api/v1/teams', { name: team.name.toUpperCase() })).status).toBe(409);
    expect((await api.post('/api/v1/teams', { name: 'x', members: [{ userId: ana.id }, { userId: ana.id, role: 'observer' }] })).status).toBe(400);

    const schedule = await expectOk(api.post('/api/v1/schedules', { ...newYorkDaily(), teamId: team.id }));
    const { service } = await serviceWithPolicy(api, [{ delayMinutes: 5, targets: [{ type: 'team', id: team.id }] }]);
    await expectOk(api.put(`/api/v1/services/${service.id}`, { name: service.name, escalationPolicyId: service.escalationPolicyId, teamId: team.id }));

    const onCall = await expectOk(api.get(`/api/v1/teams/${team.id}/on-call?at=2024-03-10T16:00:00Z`));
    // 10 March is Ben's day on the schedule; the team target pages its manager Ana, not observer Ben.
    expect(onCall.schedules).toEqual([{ scheduleId: schedule.id, scheduleName: schedule.name, user: expect.objectContaining({ id: ben.id }) }]);
    expect(onCall.services).toHaveLength(1);
    expect(onCall.services[0].steps[0].users.map((u: any) => u.name)).toEqual(['Ana']);

    // A team in use cannot be deleted out from under its services.
    const del = await api.delete(`/api/v1/teams/${team.id}`);
    expect(del.status).toBe(409);
    expect(del.body.message).toContain(`service "${service.name}"`);
  });

  it('refuses to delete a user who is still in a rotation', async () => {
    const dora = await user(api, 'Dora');
    const schedule = await expectOk(api.post('/api/v1/schedules', { ...newYorkDaily(), layers: [{ ...newYorkDaily().layers[0], participants: [dora.id] }] }));
    const res = await api.delete(`/api/v1/users/${dora.id}`);
    expect(res.status).toBe(409);
    expect(res.body.message).toContain(`schedule "${schedule.name}"`);
  });

  it('dry-runs a service: who would be paged, when and by which step', async () => {
    const schedule = await expectOk(api.post('/api/v1/schedules', newYorkDaily()));
    const { service } = await serviceWithPolicy(
      api,
      [
        { delayMinutes: 15, targets: [{ type: 'schedule', id: schedule.id }] },
        { delayMinutes: 10, targets: [{ type: 'user', id: cy.id }] },
      ],
      {
        repeatCount: 1,
        urgencyRule: {
          type: 'support-hours',
          timeZone: 'America/New_York',
          days: [1, 2, 3, 4, 5],
          start: '09:00',
          end: '17:00',
          during: 'high',
          outside: 'low',
        },
      },
    );
    // Monday 11 March, 08:55 EDT (12:55Z): support hours (09:00–17:00 New York) not yet open: low
    // urgency pages the first step only.
    const early = await expectOk(api.get(`/api/v1/services/${service.id}/dry-run?at=2024-03-11T12:55:00Z`));
    expect(early.urgency).toBe('low');
    expect(early.pages.map((p: any) => [p.step, p.at, p.users.map((u: any) => u.name)])).toEqual([[1, '2024-03-11T12:55:00.000Z', ['Ben']]]);

    // 09:05 EDT: high urgency and the whole walk. Ben's 10 March turn ended at 09:00 EDT; 11 March is Ana's.
    const high = await expectOk(api.get(`/api/v1/services/${service.id}/dry-run?at=2024-03-11T13:05:00Z`));
    expect(high.urgency).toBe('high');
    expect(high.pages.map((p: any) => [p.step, p.loop, p.at, p.users.map((u: any) => u.name)])).toEqual([
      [1, 0, '2024-03-11T13:05:00.000Z', ['Ana']],
      [2, 0, '2024-03-11T13:20:00.000Z', ['Cy']],
      [1, 1, '2024-03-11T13:30:00.000Z', ['Ana']],
      [2, 1, '2024-03-11T13:45:00.000Z', ['Cy']],
    ]);
    expect(high.exhaustedAt).toBe('2024-03-11T13:55:00.000Z');
  });

  it('needs a token, and the admin role to change schedules', async () => {
    expect((await api.as(null).get('/api/v1/schedules')).status).toBe(401);
    const token = (await expectOk(api.post(`/api/v1/users/${ben.id}/tokens`, {}))).token;
    const res = await api.as(token).post('/api/v1/schedules', newYorkDaily());
    expect(res.status).toBe(403);
    expect((await api.as(token).get('/api/v1/schedules')).status).toBe(200);
  });
});
