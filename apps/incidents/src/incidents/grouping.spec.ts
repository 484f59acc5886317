import { decideGrouping, fieldValue, groupKeyFor, type GroupableAlert } from './grouping.js';

const alert = (over: Partial<GroupableAlert> = {}): GroupableAlert => ({
  summary: 'Disk full on db1',
  severity: 'critical',
  source: 'db1',
  component: 'postgres',
  group: null,
  class: null,
  dedupKey: 'db1-disk',
  labels: { cluster: 'eu-1', alertname: 'DiskFull' },
  details: { region: { name: 'eu-west' }, shards: 3 },
  ...over,
});
const at = (min: number): Date => new Date(Date.UTC(2025, 0, 1, 12, min));

describe('group keys', () => {
  it('puts nothing in a group when grouping is off', () => {
    expect(groupKeyFor({ mode: 'none' }, alert())).toBeNull();
  });

  it('puts every alert of a service in one group for time-based grouping', () => {
    expect(groupKeyFor({ mode: 'time', windowMinutes: 5 }, alert())).toBe(
      groupKeyFor({ mode: 'time', windowMinutes: 5 }, alert({ source: 'web9', labels: {} })),
    );
  });

  it('groups by the chosen fields only, from top-level fields, labels and details', () => {
    const g = { mode: 'content' as const, fields: ['component', 'cluster', 'details.region.name'], windowMinutes: 10 };
    const a = groupKeyFor(g, alert());
    expect(a).not.toBeNull();
    expect(groupKeyFor(g, alert({ summary: 'Other', source: 'db2', dedupKey: 'x' }))).toBe(a);
    expect(groupKeyFor(g, alert({ labels: { cluster: 'us-1' } }))).not.toBe(a);
    expect(groupKeyFor(g, alert({ details: { region: { name: 'us-east' } } }))).not.toBe(a);
  });

  it('opens a separate incident for an alert that lacks a chosen field', () => {
    expect(groupKeyFor({ mode: 'content', fields: ['labels.team'], windowMinutes: 10 }, alert())).toBeNull();
  });

  it('does not confuse values that contain the separator', () => {
    const g = { mode: 'content' as const, fields: ['a', 'b'], windowMinutes: 10 };
    expect(groupKeyFor(g, alert({ labels: { a: 'x,y', b: 'z' } }))).not.toBe(groupKeyFor(g, alert({ labels: { a: 'x', b: 'y,z' } })));
  });

  it('reads field values as strings', () => {
    expect(fieldValue(alert(), 'shards')).toBe('3');
    expect(fieldValue(alert(), 'labels.alertname')).toBe('DiskFull');
    expect(fieldValue(alert(), 'dedup_key')).toBe('db1-disk');
    expect(fieldValue(alert(), 'group')).toBeUndefined();
  });
});

describe('grouping decisions', () => {
  const open = { incidentId: 'i1', incidentOpen: true, windowEndsAt: at(5), hardEndsAt: at(5) };

  it('opens a new incident when the group has none', () => {
    expect(decideGrouping({ mode: 'time', windowMinutes: 5 }, undefined, at(0))).toEqual({ action: 'open', windowEndsAt: at(5), hardEndsAt: at(5) });
  });

  it('time window: joins within N minutes of the first alert, not after, and the window does not move', () => {
    const g = { mode: 'time' as const, windowMinutes: 5 };
    expect(decideGrouping(g, open, at(4))).toEqual({ action: 'join', incidentId: 'i1', windowEndsAt: at(5) });
    expect(decideGrouping(g, open, at(5)).action).toBe('open');
  });

  it('never joins a resolved incident', () => {
    expect(decideGrouping({ mode: 'time', windowMinutes: 5 }, { ...open, incidentOpen: false }, at(1)).action).toBe('open');
  });

  it('content: the window rolls forward with each grouped alert, up to 24 hours after the first', () => {
    const g = { mode: 'content' as const, fields: ['source'], windowMinutes: 10 };
    const first = decideGrouping(g, undefined, at(0));
    expect(first).toEqual({ action: 'open', windowEndsAt: at(10), hardEndsAt: new Date(at(0).getTime() + 24 * 3600_000) });
    if (first.action !== 'open') throw new Error('unreachable');
    const joined = decideGrouping(g, { incidentId: 'i1', incidentOpen: true, windowEndsAt: first.windowEndsAt, hardEndsAt: first.hardEndsAt }, at(9));
    expect(joined).toEqual({ action: 'join', incidentId: 'i1', windowEndsAt: at(19) });
    const late = new Date(at(0).getTime() + 24 * 3600_000 - 60_000);
    const capped = decideGrouping(
      g,
      { incidentId: 'i1', incidentOpen: true, windowEndsAt: new Date(late.getTime() + 1000), hardEndsAt: first.hardEndsAt },
      late,
    );
    expect(capped).toEqual({ action: 'join', incidentId: 'i1', windowEndsAt: first.hardEndsAt });
    expect(
      decideGrouping(g, { incidentId: 'i1', incidentOpen: true, windowEndsAt: first.hardEndsAt, hardEndsAt: first.hardEndsAt }, first.hardEndsAt).action,
    ).toBe('open');
  });
});
