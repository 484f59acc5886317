import type { Clock } from '#libs/clock';
import { CircuitBreaker, retryDelayMs } from './circuit-breaker.js';

/** A clock that moves only when told to. */
class ManualClock implements Clock {
  private t = Date.UTC(2026, 0, 1);
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
  onJump(): () => void {
    return () => undefined;
  }
}

describe('circuit breaker', () => {
  it('opens after consecutive transient failures, lets one trial through after the pause, and closes on its success', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(clock, 3, 30_000);
    for (let i = 0; i < 3; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    expect(b.openUntil()).toEqual(new Date(clock.now().getTime() + 30_000));
    clock.advance(30_000);
    expect(b.openUntil()).toBeNull();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // one trial at a time
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
  });

  it('reopens when the trial fails', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(clock, 1, 10_000);
    b.failure();
    clock.advance(10_000);
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
  });

  it('a success in between resets the count', () => {
    const b = new CircuitBreaker(new ManualClock(), 2, 10_000);
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });

  it('backs off three times longer each retry, capped at an hour', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 10_000))).toEqual([10_000, 30_000, 90_000, 270_000]);
    expect(retryDelayMs(20, 10_000)).toBe(3_600_000);
  });
});
