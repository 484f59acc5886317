import { randomUUID } from 'node:crypto';
import { expectOk, PagingSystem, type Api } from '#libs/testing';

/**
 * Roles scoped by team, across two teams and four services: what a team manager, a team
 * responder, an observer, someone of the other team and an admin can and cannot do. Each row is
 * one request a person would make; the answer is what they would see (ok, or 403 saying why).
 */
describe('scenarios: roles scoped by team', () => {
  let sys: PagingSystem;

  beforeAll(async () => {
    sys = await PagingSystem.start();
  });

  afterAll(async () => {
    await sys?.stop();
  });

  async function member(name: string, role: 'responder' | 'viewer' | 'admin' = 'responder'): Promise<{ id: string; token: string }> {
    const user = await expectOk(sys.oncall.post('/api/v1/users', { name, email: `${name.toLowerCase()}-${randomUUID().slice(0, 6)}@example.com`, role }));
    const { token } = await expectOk(sys.oncall.post(`/api/v1/users/${user.id}/tokens`, { name: 'test', expiresInDays: 1 }));
    return { id: user.id, token };
  }

  it('team managers manage their team, team responders act on its incidents and schedules, observers and other teams only read', async () => {
    const [amy, art, obi, bob, ada] = await Promise.all([member('Amy'), member('Art'), member('Obi'), member('Bob'), member('Ada', 'admin')]);
    const alpha = await expectOk(
      sys.oncall.post('/api/v1/teams', {
        name: `Alpha ${sys.world.id}`,
        members: [
          { userId: amy.id, role: 'manager' },
          { userId: art.id, role: 'responder' },
          { userId: obi.id, role: 'observer' },
        ],
      }),
    );
    const bravo = await expectOk(sys.oncall.post('/api/v1/teams', { name: `Bravo ${sys.world.id}`, members: [{ userId: bob.id, role: 'manager' }] }));
    const svcA = await sys.service('Alpha API', { settings: { teamId: alpha.id } });
    const svcB = await sys.service('Bravo API', { settings: { teamId: bravo.id } });
    const unowned = await sys.service('Shared DNS');
    const layer = { name: 'Week', participants: [art.id], turn: { unit: 'weeks', count: 1 }, startDate: '2026-01-05' };
    const schedA = await expectOk(sys.oncall.post('/api/v1/schedules', { name: 'Alpha primary', timeZone: 'UTC', teamId: alpha.id, layers: [layer] }));
    const policyB = await expectOk(
      sys.oncall.post('/api/v1/escalation-policies', {
        name: 'Bravo policy',
        teamId: bravo.id,
        steps: [{ delayMinutes: 5, targets: [{ type: 'user', id: bob.id }] }],
      }),
    );
    await svcA.trigger('cpu', 'Alpha CPU high');
    await svcB.trigger('cpu', 'Bravo CPU high');
    const incA = await svcA.incident('Alpha CPU high');
    const incB = await svcB.incident('Bravo CPU high');
    const [alertA] = await svcA.alerts('cpu');
    await sys.settle(); // every service has heard of the teams

    const now = sys.now().getTime();
    const hour = (h: number): string => new Date(now + h * 3_600_000).toISOString();
    const window = (serviceIds: string[]) => ({ serviceIds, startsAt: hour(1), endsAt: hour(2), description: 'patch' });
    const override = (userId: string) => ({ userId, start: hour(1), end: hour(2) });
    type Row = [who: { token: string }, label: string, api: Api, method: string, path: string, body?: unknown];
    const rows: [Row, 'ok' | 403][] = [
      // Incidents: the team's responders and managers act; observers and other teams do not.
      [[art, 'team responder acknowledges its incident', sys.incidents, 'POST', `/api/v1/incidents/${incA.id}/acknowledge`], 'ok'],
      [[amy, 'team manager adds a note', sys.incidents, 'POST', `/api/v1/incidents/${incA.id}/notes`, { text: 'looking' }], 'ok'],
      [[obi, 'observer resolves', sys.incidents, 'POST', `/api/v1/incidents/${incA.id}/resolve`], 403],
      [[bob, "other team's manager resolves", sys.incidents, 'POST', `/api/v1/incidents/${incA.id}/resolve`], 403],
      [[bob, "other team's manager changes priority", sys.incidents, 'PUT', `/api/v1/incidents/${incA.id}/priority`, { priority: 'P5' }], 403],
      [[art, "team responder reassigns the other team's incident", sys.incidents, 'POST', `/api/v1/incidents/${incB.id}/reassign`, { userId: art.id }], 403],
      [[bob, 'team manager acknowledges its incident', sys.incidents, 'POST', `/api/v1/incidents/${incB.id}/acknowledge`], 'ok'],
      [
        [bob, "other team's manager sends a stakeholder update", sys.incidents, 'POST', `/api/v1/incidents/${incA.id}/stakeholder-updates`, { message: 'x' }],
        403,
      ],
      // Alerts.
      [[bob, 'other team resolves an alert', sys.ingest, 'POST', `/api/v1/alerts/${alertA!.id}/resolve`], 403],
      // Schedules: overrides by the team's responders; the schedule itself by its managers.
      [[art, 'team responder creates an override', sys.oncall, 'POST', `/api/v1/schedules/${schedA.id}/overrides`, override(art.id)], 'ok'],
      [[bob, "other team creates an override on the team's schedule", sys.oncall, 'POST', `/api/v1/schedules/${schedA.id}/overrides`, override(bob.id)], 403],
      [
        [
          art,
          'team responder edits the schedule',
          sys.oncall,
          'PUT',
          `/api/v1/schedules/${schedA.id}`,
          { name: 'x', timeZone: 'UTC', teamId: alpha.id, layers: [layer] },
        ],
        403,
      ],
      [
        [
          amy,
          'team manager edits the schedule',
          sys.oncall,
          'PUT',
          `/api/v1/schedules/${schedA.id}`,
          { name: 'Alpha primary', timeZone: 'UTC', teamId: alpha.id, layers: [layer] },
        ],
        'ok',
      ],
      [
        [
          amy,
          'team manager hands the schedule to another team',
          sys.oncall,
          'PUT',
          `/api/v1/schedules/${schedA.id}`,
          { name: 'x', timeZone: 'UTC', teamId: bravo.id, layers: [layer] },
        ],
        403,
      ],
      // Maintenance: the team's managers, for the team's services only.
      [[amy, "team manager puts the team's service into maintenance", sys.ingest, 'POST', '/api/v1/maintenance-windows', window([svcA.id])], 'ok'],
      [[art, 'team responder puts it into maintenance', sys.ingest, 'POST', '/api/v1/maintenance-windows', window([svcA.id])], 403],
      [[bob, "other team's manager puts it into maintenance", sys.ingest, 'POST', '/api/v1/maintenance-windows', window([svcA.id, svcB.id])], 403],
      [[art, 'a responder puts a service of no team into maintenance', sys.ingest, 'POST', '/api/v1/maintenance-windows', window([unowned.id])], 'ok'],
      // Services, integrations, policies, SLAs: the team's managers; what no team owns, admins.
      [[amy, 'team manager edits its service', sys.oncall, 'PUT', `/api/v1/services/${svcA.id}`, { name: 'Alpha API', teamId: alpha.id }], 'ok'],
      [[amy, 'team manager moves its service to another team', sys.oncall, 'PUT', `/api/v1/services/${svcA.id}`, { name: 'Alpha API', teamId: bravo.id }], 403],
      [[amy, 'team manager creates a service for the team', sys.oncall, 'POST', '/api/v1/services', { name: 'Alpha worker', teamId: alpha.id }], 'ok'],
      [[amy, 'team manager creates a service of no team', sys.oncall, 'POST', '/api/v1/services', { name: 'Orphan' }], 403],
      [[art, 'team responder creates a service for the team', sys.oncall, 'POST', '/api/v1/services', { name: 'Alpha cron', teamId: alpha.id }], 403],
      [
        [
          amy,
          "team manager adds an integration to the team's service",
          sys.ingest,
          'POST',
          '/api/v1/integrations',
          { serviceId: svcA.id, type: 'events-api-v2', name: 'Grafana' },
        ],
        'ok',
      ],
      [[amy, "team manager rotates another team's integration key", sys.ingest, 'POST', `/api/v1/integrations/${svcB.integrationId}/rotate-key`], 403],
      [
        [
          amy,
          "team manager changes another team's policy",
          sys.oncall,
          'PUT',
          `/api/v1/escalation-policies/${policyB.id}`,
          { name: 'mine', steps: [{ delayMinutes: 5, targets: [{ type: 'user', id: amy.id }] }] },
        ],
        403,
      ],
      [
        [
          bob,
          "team manager changes the team's policy",
          sys.oncall,
          'PUT',
          `/api/v1/escalation-policies/${policyB.id}`,
          { name: 'Bravo policy', teamId: bravo.id, steps: [{ delayMinutes: 5, targets: [{ type: 'user', id: bob.id }] }] },
        ],
        'ok',
      ],
      [
        [
          amy,
          "team manager sets its service's SLA",
          sys.incidents,
          'PUT',
          `/api/v1/services/${svcA.id}/sla-policy`,
          { goals: [{ priority: 'P1', acknowledgeWithinMinutes: 5, resolveWithinMinutes: 60 }] },
        ],
        'ok',
      ],
      [
        [
          bob,
          "other team sets the service's SLA",
          sys.incidents,
          'PUT',
          `/api/v1/services/${svcA.id}/sla-policy`,
          { goals: [{ priority: 'P1', acknowledgeWithinMinutes: 5, resolveWithinMinutes: 60 }] },
        ],
        403,
      ],
      // The team itself: its managers change its membership; not another team's.
      [
        [
          amy,
          'team manager adds a member',
          sys.oncall,
          'PUT',
          `/api/v1/teams/${alpha.id}`,
          {
            name: alpha.name,
            members: [{ userId: amy.id, role: 'manager' }, { userId: art.id }, { userId: obi.id, role: 'observer' }, { userId: bob.id, role: 'observer' }],
          },
        ],
        'ok',
      ],
      [
        [
          amy,
          "team manager changes another team's members",
          sys.oncall,
          'PUT',
          `/api/v1/teams/${bravo.id}`,
          { name: bravo.name, members: [{ userId: amy.id, role: 'manager' }] },
        ],
        403,
      ],
      // Admins act everywhere; everyone reads.
      [[ada, "admin resolves the other team's incident", sys.incidents, 'POST', `/api/v1/incidents/${incB.id}/resolve`], 'ok'],
      [[obi, 'observer reads the incident', sys.incidents, 'GET', `/api/v1/incidents/${incA.id}`], 'ok'],
    ];
    const seen: { label: string; answer: 'ok' | number }[] = [];
    for (const [[who, label, api, method, path, body]] of rows) {
      const res = await api.as(who.token).request(method, path, body);
      seen.push({ label, answer: res.status < 300 ? 'ok' : res.status });
      if (res.status === 403) expect(res.body.message).toMatch(/^Not allowed: this needs a (manager|responder or manager) of team|needs the admin role/);
    }
    expect(seen).toEqual(rows.map(([[, label], answer]) => ({ label, answer })));

    // Denials say what was needed; what no team owns stays with admins to manage.
    const denied = await sys.oncall.as(art.token).post('/api/v1/services', { name: 'Alpha cron', teamId: alpha.id });
    expect(denied.body.message).toBe(`Not allowed: this needs a manager of team ${alpha.id}; you are its responder`);
    const orphan = await sys.oncall.as(amy.token).post('/api/v1/services', { name: 'Orphan' });
    expect(orphan.body.message).toBe('Not allowed: it belongs to no team, so it needs the admin role');

    // Membership changes reach every service: Bob, now an observer of Alpha, still cannot act on it.
    await sys.settle();
    expect((await sys.incidents.as(bob.token).post(`/api/v1/incidents/${incA.id}/resolve`)).status).toBe(403);
    await expectOk(sys.incidents.post(`/api/v1/incidents/${incA.id}/resolve`));
  });
});
