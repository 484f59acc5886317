import { GroupCommitter, OverloadedError, type GroupCommitSettings, type ItemResult } from './group-commit.js';

/** A committer whose writes all wait until release() is called; batches records what each write got. */
function gated<I, R>(settings: GroupCommitSettings, answer: (item: I) => ItemResult<R>, holdFirstOnly = false) {
  const batches: I[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const committer = new GroupCommitter<I, R>(async (items) => {
    batches.push(items);
    if (!holdFirstOnly || batches.length === 1) await gate;
    return items.map(answer);
  }, settings);
  return { committer, batches, release };
}

describe('GroupCommitter', () => {
  it('writes requests that arrive during a write together in the next one, and answers each its own result', async () => {
    const {
      committer: c,
      batches,
      release,
    } = gated<number, number>(
      { maxBatch: 100, maxQueued: 100 },
      (i) => (i === 4 ? { ok: false, error: new Error('bad 4') } : { ok: true, value: i * 10 }),
      true,
    );
    const first = c.submit(1);
    const rest = [2, 3, 4, 5].map((i) => c.submit(i).catch((e: Error) => e.message));
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 'bad 4', 50]);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('caps a batch by weight and refuses work beyond the queue limit', async () => {
    const { committer: c, batches, release } = gated<string, string>({ maxBatch: 5, maxQueued: 10 }, (value) => ({ ok: true, value }));
    const inFlight = c.submit('a', 1);
    const queued = [c.submit('b', 4), c.submit('c', 4)];
    await expect(c.submit('d', 4)).rejects.toBeInstanceOf(OverloadedError);
    expect(c.queued).toBe(8);
    release();
    await Promise.all([inFlight, ...queued]);
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it('starts another writer beside a running one only once enough requests wait', async () => {
    const {
      committer: c,
      batches,
      release,
    } = gated<number, number>({ maxBatch: 100, maxQueued: 100, concurrency: 2, extraWriterAfter: 3 }, (value) => ({ ok: true, value }));
    const answers = [c.submit(1), c.submit(2), c.submit(3)];
    await Promise.resolve();
    // One write in flight ([1]); two requests wait, fewer than three: they wait for the next batch.
    expect(batches).toEqual([[1]]);
    answers.push(c.submit(4));
    // Three wait now: a second writer takes them beside the first.
    expect(batches).toEqual([[1], [2, 3, 4]]);
    release();
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4]);
  });

  it('rejects every request of a batch whose write throws', async () => {
    const c = new GroupCommitter<number, number>(
      async () => {
        throw new Error('database down');
      },
      { maxBatch: 10, maxQueued: 10 },
    );
    await expect(c.submit(1)).rejects.toThrow('database down');
  });
});
