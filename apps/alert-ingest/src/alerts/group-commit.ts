/** The write path is saturated: the sender should retry (HTTP 503 with Retry-After). */
export class OverloadedError extends Error {
  constructor(readonly queued: number) {
    super(`Klaxon is overloaded (${queued} events waiting to be written); retry shortly`);
    this.name = 'OverloadedError';
  }
}

export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitSettings {
  /** Most events written in one transaction. */
  maxBatch: number;
  /** Most events waiting; beyond this submit() refuses at once (the sender retries later). */
  maxQueued: number;
  /** Batches written at the same time (each in its own transaction). */
  concurrency?: number;
  /**
   * While a batch is being written, another starts only once this much weight waits: the waiting
   * requests otherwise go together into the next batch. Fewer, larger batches cost less per event;
   * a write that hangs still gets company as soon as the queue grows. 1 starts one whenever allowed.
   */
  extraWriterAfter?: number;
}

interface Waiting<I, R> {
  item: I;
  weight: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: requests that arrive while a transaction is being written wait and go together
 * into the next one, so one commit (one fsync) makes many requests durable. Each caller's promise
 * settles only when its own item committed (or failed), so a 2xx still means "durable".
 * A few batches may be written at once, so one batch's commit overlaps the next one's statements.
 */
export class GroupCommitter<I, R> {
  private readonly queue: Waiting<I, R>[] = [];
  private queuedWeight = 0;
  private writing = 0;

  constructor(
    private readonly write: (items: I[]) => Promise<ItemResult<R>[]>,
    private readonly settings: GroupCommitSettings,
  ) {}

  get queued(): number {
    return this.queuedWeight;
  }

  submit(item: I, weight = 1): Promise<R> {
    if (this.queuedWeight > 0 && this.queuedWeight + weight > this.settings.maxQueued) {
      return Promise.reject(new OverloadedError(this.queuedWeight));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, weight, resolve, reject });
      this.queuedWeight += weight;
      this.pump();
    });
  }

  private pump(): void {
    if (this.writing >= (this.settings.concurrency ?? 1) || this.queue.length === 0) return;
    if (this.writing > 0 && this.queuedWeight < (this.settings.extraWriterAfter ?? 1)) return;
    this.writing++;
    const batch: Waiting<I, R>[] = [];
    let weight = 0;
    while (this.queue.length && (batch.length === 0 || weight + this.queue[0]!.weight <= this.settings.maxBatch)) {
      const next = this.queue.shift()!;
      weight += next.weight;
      batch.push(next);
    }
    this.queuedWeight -= weight;
    this.write(batch.map((w) => w.item))
      .then(
        (results) => batch.forEach((w, i) => settle(w, results[i] ?? { ok: false, error: new Error('no result for a batched item') })),
        (error) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        this.writing--;
        this.pump();
      });
  }
}

function settle<I, R>(w: Waiting<I, R>, r: ItemResult<R>): void {
  if (r.ok) w.resolve(r.value);
  else w.reject(r.error);
}
