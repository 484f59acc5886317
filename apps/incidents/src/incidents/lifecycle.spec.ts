import { acknowledge, higherPriority, needsReview, priorityForSeverity, requireOpen, resolve, snooze, unacknowledge } from './lifecycle.js';

describe('incident lifecycle', () => {
  it('acknowledges a triggered incident only', () => {
    expect(acknowledge('triggered')).toEqual({ ok: true, to: 'acknowledged' });
    expect(acknowledge('acknowledged')).toMatchObject({ ok: false, reason: 'already' });
    expect(acknowledge('resolved')).toMatchObject({ ok: false, reason: 'resolved' });
  });

  it('resolves anything not resolved; a resolved incident stays resolved', () => {
    expect(resolve('triggered').ok).toBe(true);
    expect(resolve('acknowledged').ok).toBe(true);
    expect(resolve('resolved')).toMatchObject({ ok: false, reason: 'already' });
  });

  it('withdraws only an acknowledgement', () => {
    expect(unacknowledge('acknowledged')).toEqual({ ok: true, to: 'triggered' });
    expect(unacknowledge('triggered')).toMatchObject({ ok: false, reason: 'not-acknowledged' });
    expect(unacknowledge('resolved')).toMatchObject({ ok: false, reason: 'resolved' });
  });

  it('snoozes open incidents into acknowledged', () => {
    expect(snooze('triggered')).toEqual({ ok: true, to: 'acknowledged' });
    expect(snooze('acknowledged')).toEqual({ ok: true, to: 'acknowledged' });
    expect(snooze('resolved').ok).toBe(false);
    expect(requireOpen('resolved').ok).toBe(false);
  });

  it('maps severities to priorities and orders priorities', () => {
    expect(['critical', 'error', 'warning', 'info'].map((s) => priorityForSeverity(s as never))).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(higherPriority('P1', 'P3')).toBe(true);
    expect(higherPriority('P3', 'P3')).toBe(false);
  });

  it('asks for a review of major incidents, and of P1/P2 ones where the service says so', () => {
    expect(needsReview({ major: false, priority: 'P2' })).toBe(false);
    expect(needsReview({ major: true, priority: 'P5' })).toBe(true);
    expect(needsReview({ major: false, priority: 'P2' }, 'major-and-p1-p2')).toBe(true);
    expect(needsReview({ major: false, priority: 'P3' }, 'major-and-p1-p2')).toBe(false);
    expect(needsReview({ major: true, priority: 'P1' }, 'off')).toBe(false);
  });
});
