import type { Clock } from '#libs/clock';

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * One per provider. After `threshold` consecutive transient failures the circuit opens: calls fail
 * at once (and are retried later) instead of each waiting for a dead provider's timeout. After
 * `openMs` one trial call is let through; its success closes the circuit, its failure reopens it.
 * In memory on purpose: it is a view of a provider's health, not state that must survive a crash.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;

  constructor(
    private readonly clock: Clock,
    private readonly threshold: number,
    private readonly openMs: number,
  ) {}

  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    return this.clock.now().getTime() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** While open: when the next trial call may go. */
  openUntil(): Date | null {
    return this.state === 'open' ? new Date(this.openedAt! + this.openMs) : null;
  }

  /** Whether a call may go now; in half-open, only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  /** A transient failure (permanent ones say nothing about the provider's health). */
  failure(): void {
    this.failures += 1;
    if (this.trialInFlight || this.failures >= this.threshold) this.openedAt = this.clock.now().getTime();
    this.trialInFlight = false;
  }

  /** A call that neither succeeded nor failed transiently: frees a half-open trial. */
  release(): void {
    this.trialInFlight = false;
  }
}

/** The wait before retry number `attempt` (1-based): base, 3×base, 9×base…, capped at an hour. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 3 ** Math.max(0, attempt - 1), 3_600_000);
}
