/**
 * @module Group commit. With synchronous=FULL every commit costs an fsync, so writes submitted in
 * the same event-loop turn are run together in one BEGIN IMMEDIATE … COMMIT. Each promise resolves
 * only after that COMMIT returned, i.e. after the data is durable. If the shared transaction fails,
 * each write is retried alone, so one bad write cannot fail the others.
 */
import type { Database } from 'bun:sqlite';
import { describeError, LifelineError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { StorageFailure } from '../errors.ts';
import type { StorageHealth } from '../store.ts';
import { classifyStorageError, unavailableError } from './errors.ts';
import type { SqliteHandle } from './open.ts';

/** A write: runs synchronously inside an open transaction and returns its result. */
type WriteOp<T> = (sqlite: Database) => T;

interface Queued {
  op: WriteOp<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Writes per transaction at most; the rest wait for the next turn so one COMMIT stays short. */
const MAX_WRITES_PER_COMMIT = 512;

/**
 * Serialises and batches writes on one connection; tracks storage health
 * (docs/design.md#storage-failure).
 */
export class WriteQueue {
  private queue: Queued[] = [];
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private failure: StorageFailure | null = null;
  private needsReopen = false;
  private stopped = false;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly log: Logger,
  ) {}

  /** Queues a write; resolves with its result after COMMIT, rejects `unavailable` on storage failure. */
  submit<T>(op: WriteOp<T>): Promise<T> {
    if (this.stopped) {
      return Promise.reject(
        new LifelineError('unavailable', 'storage is closed', { fix: 'the daemon is stopping' }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Whether the last write attempt succeeded, and why not. */
  health(): StorageHealth {
    return this.failure === null ? { ok: true } : { ok: false, reason: this.failure.reason };
  }

  /** Refuses new writes from now on; queued ones still run. Await {@link idle} afterwards. */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves when no write is queued. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate (not a microtask) also gathers writes from other sockets' frames that arrived
    // in the same poll phase.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, MAX_WRITES_PER_COMMIT);
    if (batch.length > 0) this.runBatch(batch);
    if (this.queue.length > 0) {
      this.schedule();
      return;
    }
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private runBatch(batch: Queued[]): void {
    if (!this.reopenIfNeeded()) {
      for (const q of batch) q.reject(unavailableError(this.failure!, undefined));
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = this.inTransaction(batch.map((q) => q.op));
    } catch (error) {
      if (batch.length === 1) {
        this.settleFailure(batch[0]!, error);
        return;
      }
      this.log.warn('group commit failed; retrying each write alone', {
        writes: batch.length,
        error: describeError(error),
      });
      for (const q of batch) this.runAlone(q);
      return;
    }
    this.markHealthy();
    batch.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) q.resolve(o.value);
      else q.reject(o.error);
    });
  }

  private runAlone(q: Queued): void {
    if (!this.reopenIfNeeded()) {
      q.reject(unavailableError(this.failure!, undefined));
      return;
    }
    try {
      const [outcome] = this.inTransaction([q.op]);
      this.markHealthy();
      if (outcome!.ok) q.resolve(outcome!.value);
      else q.reject(outcome!.error);
    } catch (error) {
      this.settleFailure(q, error);
    }
  }

  /** Runs ops in one transaction; throws (after rolling back) if any op or the COMMIT fails. */
  private inTransaction(ops: WriteOp<unknown>[]): Outcome[] {
    const sqlite = this.handle.sqlite;
    sqlite.run('BEGIN IMMEDIATE');
    try {
      const outcomes: Outcome[] = ops.map((op) => ({ ok: true, value: op(sqlite) }));
      sqlite.run('COMMIT');
      return outcomes;
    } catch (error) {
      // SQLite may already have rolled back (SQLITE_FULL, IOERR); only roll back if still open.
      if (sqlite.inTransaction) {
        try {
          sqlite.run('ROLLBACK');
        } catch {
          // A failing disk can fail the rollback too; the connection is reopened before reuse.
          this.needsReopen = true;
        }
      }
      throw error;
    }
  }

  private settleFailure(q: Queued, error: unknown): void {
    const failure = classifyStorageError(error);
    if (failure === null) {
      q.reject(error);
      return;
    }
    if (this.failure === null) {
      this.log.error('storage write failed; writes are refused until one succeeds', {
        reason: failure.reason,
      });
    }
    this.failure = failure;
    if (failure.reopen) this.needsReopen = true;
    q.reject(unavailableError(failure, error));
  }

  private markHealthy(): void {
    if (this.failure === null) return;
    this.log.info('storage writes succeed again', { after: this.failure.reason });
    this.failure = null;
  }

  /** Reopens a possibly wedged connection; false when that failed (the write is refused). */
  private reopenIfNeeded(): boolean {
    if (!this.needsReopen) return true;
    try {
      this.handle.reopen();
      this.needsReopen = false;
      this.log.info('database reopened after a storage failure');
      return true;
    } catch (error) {
      this.log.warn('reopening the database failed', { error: describeError(error) });
      this.failure ??= { reason: 'the database cannot be reopened', sqliteCode: '', reopen: true };
      return false;
    }
  }
}
