import { EventEmitter } from 'node:events';

/**
 * All of Klaxon's timing goes through a Clock so tests can fast-forward thirty minutes without
 * sleeping. Durable timers compare their due times with `now()`, never with the database's clock.
 */
export interface Clock {
  now(): Date;
  /** Called back when the clock jumps (test clocks only), so sleeping timer loops re-check at once. */
  onJump(listener: () => void): () => void;
}

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
  onJump(): () => void {
    return () => undefined;
  }
}

/**
 * A clock that runs at real speed from an adjustable offset. `advance(ms)` jumps it forward, as
 * GoAlert's smoke tests do, so everything still happens in real time between jumps.
 */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  private readonly events = new EventEmitter();

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('a clock only moves forward');
    this.offsetMs += ms;
    this.events.emit('jump');
    return this.now();
  }

  /** Sets the clock to an absolute instant (forward only). */
  set(at: Date): Date {
    return this.advance(Math.max(0, at.getTime() - this.now().getTime()));
  }

  get offset(): number {
    return this.offsetMs;
  }

  onJump(listener: () => void): () => void {
    this.events.on('jump', listener);
    return () => this.events.off('jump', listener);
  }
}

export const CLOCK = Symbol('KLAXON_CLOCK');
