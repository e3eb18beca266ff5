/**
 * @module The SQLite implementation of {@link Store}. Writes go through the group-commit {@link
 * WriteQueue}; reads run directly on the connection (inside one read transaction where several
 * statements must agree), so reads and rehydrate keep working while writes fail
 * (docs/design.md#storage-failure).
 */
import { type Clock, systemClock } from '../../lib/clock.ts';
import { type Logger, silentLogger } from '../../lib/log.ts';
import {
  type AppendResult,
  type AuditEntry,
  type CheckOutcome,
  type ClaimOptions,
  type EventsSinceResult,
  type NewMessage,
  type OutboxBatch,
  type OutboxMessage,
  type OutboxStats,
  type OverridePlan,
  type RuntimeOverride,
  type SearchHit,
  type Snapshot,
  type SnapshotOptions,
  type StorageHealth,
  type Store,
  type StoredBreakerState,
  type StoredMessage,
  setOverridePlan,
  unsetOverridePlan,
} from '../store.ts';
import type { StoredTurn, TurnUpdate } from '../turns.ts';
import {
  applyOverridePlan,
  selectAuditTrail,
  selectBreakerState,
  selectOverrides,
  upsertBreakerState,
} from './admin.ts';
import { classifyStorageError, unavailableError } from './errors.ts';
import { deleteOldEvents, readEventsSince, recordEvent } from './history.ts';
import { probeWriteLock, readEpoch, readJournalMode, runCheck, vacuumInto } from './maintenance.ts';
import {
  deleteMessagesOfThread,
  insertMessage,
  selectRecentMessages,
  selectThreadOwner,
} from './messages.ts';
import type { SqliteHandle } from './open.ts';
import {
  countByState,
  searchThread,
  selectDeadLetters,
  selectPendingBatches,
  updateDelivery,
} from './outbox.ts';
import { readSnapshotRows, writePersonalization, writePreferences } from './state.ts';
import { selectOpenTurns, selectTurn, writeTurnUpdate } from './turns.ts';
import { WriteQueue } from './write-queue.ts';

/** Options for {@link createSqliteStore}. */
interface SqliteStoreOptions {
  /** Wall clock for stored timestamps; inject a fake in tests. */
  clock?: Clock;
  logger?: Logger;
}

/** Builds the store over an open, migrated handle; the store owns the handle from now on. */
export function createSqliteStore(handle: SqliteHandle, options: SqliteStoreOptions = {}): Store {
  return new SqliteStore(handle, options.clock ?? systemClock, options.logger ?? silentLogger);
}

class SqliteStore implements Store {
  private readonly writes: WriteQueue;
  private closed = false;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.writes = new WriteQueue(handle, logger);
  }

  private get sqlite() {
    return this.handle.sqlite;
  }

  /** Runs a read; storage failures become `unavailable` (health tracks writes only). */
  private async read<T>(fn: () => T, transaction = false): Promise<T> {
    try {
      if (!transaction) return fn();
      this.sqlite.run('BEGIN');
      try {
        return fn();
      } finally {
        if (this.sqlite.inTransaction) this.sqlite.run('COMMIT');
      }
    } catch (error) {
      const failure = classifyStorageError(error);
      throw failure === null ? error : unavailableError(failure, error);
    }
  }

  appendMessage(message: NewMessage): Promise<AppendResult> {
    return this.writes.submit((db) => insertMessage(db, message, this.clock.wallMs()));
  }

  readTurn(turnId: string): Promise<StoredTurn | null> {
    return this.read(() => selectTurn(this.sqlite, turnId));
  }

  openTurns(limit: number, threadId?: string): Promise<StoredTurn[]> {
    return this.read(() => selectOpenTurns(this.sqlite, limit, threadId));
  }

  updateTurn(turnId: string, update: TurnUpdate): Promise<boolean> {
    return this.writes.submit((db) => writeTurnUpdate(db, turnId, update, this.clock.wallMs()));
  }

  /** One process runs every turn: the lease is always granted (docs/decisions.md). */
  async leaseTurns(_threadId: string, _holder: string, _untilWallMs: number): Promise<boolean> {
    return true;
  }

  async releaseTurns(_threadId: string, _holder: string): Promise<void> {}

  threadOwner(threadId: string): Promise<string | null> {
    return this.read(() => selectThreadOwner(this.sqlite, threadId));
  }

  recentMessages(threadId: string, limit: number): Promise<StoredMessage[]> {
    return this.read(() => selectRecentMessages(this.sqlite, threadId, limit));
  }

  setPreferences(userId: string, preferences: unknown): Promise<number> {
    return this.writes.submit((db) =>
      writePreferences(db, userId, preferences, this.clock.wallMs()),
    );
  }

  setPersonalization(userId: string, threadId: string, state: unknown) {
    return this.writes.submit((db) =>
      writePersonalization(db, userId, threadId, state, this.clock.wallMs()),
    );
  }

  appendEvent(userId: string, type: string, payload: unknown): Promise<number> {
    return this.writes.submit((db) => recordEvent(db, userId, type, payload, this.clock.wallMs()));
  }

  readSnapshot(
    userId: string,
    threadIds: string[],
    recentMessages: number,
    options?: SnapshotOptions,
  ): Promise<Snapshot> {
    return this.read(
      () => readSnapshotRows(this.sqlite, userId, threadIds, recentMessages, options),
      true,
    );
  }

  eventsSince(userId: string, sinceSeq: number, maxEvents: number): Promise<EventsSinceResult> {
    return this.read(() => readEventsSince(this.sqlite, userId, sinceSeq, maxEvents), true);
  }

  trimHistory(maxEvents: number, ttlMs: number, nowWallMs: number): Promise<number> {
    return this.writes.submit((db) => deleteOldEvents(db, maxEvents, ttlMs, nowWallMs));
  }

  claimBatch(options: ClaimOptions): Promise<OutboxBatch[]> {
    return this.read(() => selectPendingBatches(this.sqlite, options), true);
  }

  async markDelivered(ids: string[]): Promise<void> {
    const nowWallMs = this.clock.wallMs();
    await this.writes.submit((db) => updateDelivery(db, ids, { kind: 'delivered', nowWallMs }));
  }

  async recordAttemptFailure(ids: string[], error: string): Promise<void> {
    await this.writes.submit((db) => updateDelivery(db, ids, { kind: 'failed', error }));
  }

  async markDead(ids: string[], reason: string): Promise<void> {
    await this.writes.submit((db) => updateDelivery(db, ids, { kind: 'dead', error: reason }));
  }

  outboxStats(): Promise<OutboxStats> {
    return this.read(() => countByState(this.sqlite));
  }

  deadLetters(limit: number): Promise<OutboxMessage[]> {
    return this.read(() => selectDeadLetters(this.sqlite, limit));
  }

  searchLocal(threadId: string, query: string, limit: number): Promise<SearchHit[]> {
    return this.read(() => searchThread(this.sqlite, threadId, query, limit));
  }

  deleteThreadMessages(threadId: string): Promise<number> {
    return this.writes.submit((db) => deleteMessagesOfThread(db, threadId));
  }

  loadBreakerState(backend: string): Promise<StoredBreakerState | null> {
    return this.read(() => selectBreakerState(this.handle.db, backend));
  }

  async saveBreakerState(backend: string, snapshot: StoredBreakerState): Promise<void> {
    await this.writes.submit(() =>
      upsertBreakerState(this.handle.db, backend, snapshot, this.clock.wallMs()),
    );
  }

  listOverrides(): Promise<RuntimeOverride[]> {
    return this.read(() => selectOverrides(this.handle.db));
  }

  updateOverrides<T>(plan: OverridePlan<T>, actor: string): Promise<T> {
    return this.writes.submit(() =>
      applyOverridePlan(this.handle.db, plan, actor, this.clock.wallMs()),
    );
  }

  async setOverride(key: string, valueJson: string, actor: string): Promise<void> {
    await this.updateOverrides(setOverridePlan(key, valueJson), actor);
  }

  unsetOverride(key: string, actor: string): Promise<boolean> {
    return this.updateOverrides(unsetOverridePlan(key), actor);
  }

  auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.read(() => selectAuditTrail(this.handle.db, limit));
  }

  epoch(): Promise<string> {
    return this.read(() => readEpoch(this.sqlite));
  }

  async backupTo(path: string): Promise<void> {
    // Queued writes first, so the copy holds everything acknowledged before the call.
    await this.writes.idle();
    return this.read(() => vacuumInto(this.sqlite, path));
  }

  quickCheck(): Promise<CheckOutcome> {
    return this.read(() => runCheck(this.sqlite, 'quick_check'));
  }

  integrityCheck(): Promise<CheckOutcome> {
    return this.read(() => runCheck(this.sqlite, 'integrity_check'));
  }

  async probeWrite(): Promise<StorageHealth> {
    return probeWriteLock(this.sqlite);
  }

  journalMode(): Promise<string> {
    return this.read(() => readJournalMode(this.sqlite));
  }

  storageHealth(): StorageHealth {
    return this.writes.health();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writes.stop();
    await this.writes.idle();
    this.handle.close();
  }
}
