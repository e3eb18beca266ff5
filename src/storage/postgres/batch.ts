/**
 * @module Group commit for PostgreSQL appends (cluster mode). Appends submitted in the same
 * event-loop turn run as ONE autocommitted statement — one round trip and one WAL flush for the
 * lot instead of one each — and every promise resolves only after that statement committed.
 * When the shared statement fails for anything but a storage failure (one bad row), each append
 * runs again alone, so one bad write cannot fail the others (as sqlite/write-queue.ts does for SQLite).
 */

/** How a {@link GroupCommit} runs its work. */
export interface GroupCommitRunner<I, R> {
  /** Runs every item in one statement; results in the items' order. */
  runBatch(items: I[]): Promise<R[]>;
  /** Runs one item alone (a batch of one, and each item after a batch failed). */
  runOne(item: I): Promise<R>;
  /** True for a failure of the storage itself: the batch's items all fail with it, no retry alone. */
  isStorageFailure(error: unknown): boolean;
}

/** Items per statement at most; the rest go in the next one. */
const MAX_APPENDS_PER_STATEMENT = 256;
/**
 * Statements of one kind in flight at once. Appends that arrive while they run wait and go
 * together in the next statement, so under load each commit carries many appends (the WAL flush
 * is the cost) while an idle instance still commits a lone append at once.
 */
const MAX_STATEMENTS_IN_FLIGHT = 2;

interface Pending<I, R> {
  item: I;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/** Gathers concurrently submitted items into batches; see the module comment. */
export class GroupCommit<I, R> {
  private queue: Array<Pending<I, R>> = [];
  private scheduled = false;
  private running = 0;

  constructor(
    private readonly runner: GroupCommitRunner<I, R>,
    private readonly maxBatch = MAX_APPENDS_PER_STATEMENT,
    private readonly maxInFlight = MAX_STATEMENTS_IN_FLIGHT,
  ) {}

  /** Queues `item`; resolves with its result after the statement that carried it committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // setImmediate (not a microtask) also gathers appends from frames and requests that arrived
      // in the same poll phase.
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.running < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running += 1;
      void this.run(batch).finally(() => {
        this.running -= 1;
        this.flush();
      });
    }
  }

  private async run(batch: Array<Pending<I, R>>): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!;
      await this.runner.runOne(only.item).then(only.resolve, only.reject);
      return;
    }
    let results: R[];
    try {
      results = await this.runner.runBatch(batch.map((p) => p.item));
    } catch (error) {
      if (this.runner.isStorageFailure(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      // One row broke the statement: run each alone so only that one fails.
      await Promise.all(batch.map((p) => this.runner.runOne(p.item).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => {
      p.resolve(results[i]!);
    });
  }
}

/**
 * Runs `items` in a stable order sorted by `key` (so concurrent batches from several instances
 * take row locks in one order and do not deadlock), and returns `run`'s results in input order.
 */
export async function inLockOrder<I, R>(
  items: I[],
  key: (item: I) => string,
  run: (sorted: I[]) => Promise<R[]>,
): Promise<R[]> {
  const order = items.map((_, i) => i);
  order.sort((a, b) => {
    const ka = key(items[a]!);
    const kb = key(items[b]!);
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
  const sortedResults = await run(order.map((i) => items[i]!));
  const results = new Array<R>(items.length);
  order.forEach((original, position) => {
    results[original] = sortedResults[position]!;
  });
  return results;
}
