import { breachMoment, dueAt, pause, resume, stop, view, type SlaClock } from './sla.js';

const t = (min: number): Date => new Date(Date.UTC(2025, 0, 1, 12, 0) + min * 60_000);
const clock = (over: Partial<SlaClock> = {}): SlaClock => ({
  goal: 'resolve',
  targetSeconds: 60 * 60,
  startedAt: t(0),
  pausedMs: 0,
  pausedSince: null,
  stoppedAt: null,
  breachedAt: null,
  ...over,
});

describe('SLA clocks', () => {
  it('runs from the start and is due after the target', () => {
    const c = clock();
    expect(dueAt(c)).toEqual(t(60));
    expect(view(c, t(20))).toMatchObject({ status: 'running', remainingSeconds: 40 * 60, elapsedSeconds: 20 * 60, dueAt: t(60) });
  });

  it('does not count snoozed time, and moves the due time by the pause', () => {
    let c = pause(clock(), t(10));
    expect(dueAt(c)).toBeNull();
    expect(view(c, t(40))).toMatchObject({ status: 'paused', remainingSeconds: 50 * 60, dueAt: null });
    c = resume(c, t(40));
    expect(dueAt(c)).toEqual(t(90));
    expect(breachMoment(c, t(89))).toBeNull();
    expect(breachMoment(c, t(95))).toEqual(t(90));
  });

  it('is met when stopped in time, breached when stopped late', () => {
    expect(view(stop(clock(), t(59)), t(200))).toMatchObject({ status: 'met', remainingSeconds: 60, elapsedSeconds: 59 * 60 });
    expect(view(stop(clock(), t(61)), t(200))).toMatchObject({ status: 'breached', remainingSeconds: -60 });
  });

  it('ends a pause in progress when stopped', () => {
    const c = stop(pause(clock(), t(10)), t(30));
    expect(c).toMatchObject({ pausedSince: null, pausedMs: 20 * 60_000, stoppedAt: t(30) });
    expect(view(c, t(500))).toMatchObject({ status: 'met', elapsedSeconds: 10 * 60 });
  });

  it('stays breached once breached', () => {
    const c = stop(clock({ breachedAt: t(60) }), t(70));
    expect(view(c, t(80))).toMatchObject({ status: 'breached', breachedAt: t(60) });
    expect(breachMoment(c, t(80))).toBeNull();
  });

  it('has no status without a target', () => {
    expect(view(clock({ targetSeconds: null }), t(5))).toBeNull();
    expect(breachMoment(clock({ targetSeconds: null }), t(500))).toBeNull();
  });
});
