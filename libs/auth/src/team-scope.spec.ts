import { teamAllows } from './team-scope.js';
import type { Principal } from './tokens.js';

describe('teamAllows', () => {
  const A = 'aaaaaaaa-0000-4000-8000-000000000001';
  const B = 'bbbbbbbb-0000-4000-8000-000000000002';
  const who = (role: Principal['role'], teams: Principal['teams'] = {}): Principal => ({ userId: 'u', role, tokenId: 't', teams });

  it('lets admins do anything, anywhere', () => {
    expect(teamAllows(who('admin'), [A, B, null], 'manager')).toBe(true);
  });

  it("lets a team's responders act and only its managers manage", () => {
    expect(teamAllows(who('responder', { [A]: 'responder' }), [A], 'responder')).toBe(true);
    expect(teamAllows(who('responder', { [A]: 'manager' }), [A], 'responder')).toBe(true);
    expect(teamAllows(who('responder', { [A]: 'responder' }), [A], 'manager')).toBe(`this needs a manager of team ${A}; you are its responder`);
    expect(teamAllows(who('responder', { [A]: 'observer' }), [A], 'responder')).toBe(`this needs a responder or manager of team ${A}; you are its observer`);
    expect(teamAllows(who('responder', { [B]: 'manager' }), [A], 'responder')).toBe(`this needs a responder or manager of team ${A}; you are not a member`);
  });

  it('needs the role in every owning team (a move between teams needs both)', () => {
    expect(teamAllows(who('responder', { [A]: 'manager' }), [A, B], 'manager')).toBe(`this needs a manager of team ${B}`);
    expect(teamAllows(who('responder', { [A]: 'manager', [B]: 'manager' }), [A, B], 'manager')).toBe(true);
  });

  it('leaves what no team owns as before teams: responders act, admins manage, unless the route says otherwise', () => {
    expect(teamAllows(who('responder'), [null], 'responder')).toBe(true);
    expect(teamAllows(who('responder'), [null], 'manager')).toBe('it belongs to no team, so it needs the admin role');
    expect(teamAllows(who('responder'), [null], 'manager', 'responder')).toBe(true);
    expect(teamAllows(who('viewer'), [null], 'manager', 'responder')).toBe('it belongs to no team, so it needs the responder role');
  });
});
