/**
 * @module The PostgreSQL implementation of {@link Store} (cluster mode, docs/design.md#operations).
 * Each write is its own READ COMMITTED transaction on a pooled connection, so one instance runs up
 * to `poolSize` writes at once and several instances share the database safely; appends (messages,
 * events) submitted concurrently share one statement and one commit (group commit, pg-batch.ts).
 * Snapshot-style reads run in one REPEATABLE READ READ ONLY transaction. Connection failures reject
 * with LifelineError `unavailable` and flip {@link Store.storageHealth} until the server answers.
 */
import type { SQL } from 'bun';
import { type Clock, systemClock } from '../../lib/clock.ts';
import { LifelineError } from '../../lib/errors.ts';
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
  type SettleOptions,
  type SharedBreakerStore,
  type SnapshotOptions,
  type StorageHealth,
  type Store,
  type StoredBreakerState,
  type StoredMessage,
  setOverridePlan,
  unsetOverridePlan,
} from '../store.ts';
import {
  applyOverridePlan,
  selectAuditTrail,
  selectBreakerState,
  selectOverrides,
  upsertBreakerState,
} from './admin.ts';
import { GroupCommit, inLockOrder } from './batch.ts';
import { casSharedBreaker, selectSharedBreaker, takeProbeTicket } from './breaker.ts';
import { classifyPgError, isRetryable, isStorageFailure, pgUnavailableError } from './errors.ts';
import { DEFAULT_PROBE_INTERVAL_MS, PgHealth } from './health.ts';
import {
  deleteOldEvents,
  type EventParams,
  eventParams,
  readEventsSince,
  recordEvents,
} from './history.ts';
import { backupUnsupported, probePgWrite, readEpoch, runPgCheck } from './maintenance.ts';
import {
  deleteMessagesOfThread,
  insertMessage,
  insertMessages,
  lockKeyOfMessage,
  type MessageParams,
  messageParams,
  selectRecentMessages,
  selectThreadOwner,
} from './messages.ts';
import type { PgHandle } from './open.ts';
import {
  claimPendingBatches,
  countByState,
  type LeaseSettle,
  releaseThreadLeases,
  selectDeadLetters,
  updateDelivery,
} from './outbox.ts';
import { searchThread } from './search.ts';
import { readSnapshotRows, writePersonalization, writePreferences } from './state.ts';
import { leaseThreadTurns, releaseThreadTurns } from './turn-leases.ts';
import * as turns from './turns.ts';

/** Attempts of one write when it loses a race (unique violation, serialization, deadlock). */
const MAX_WRITE_ATTEMPTS = 5;
const SNAPSHOT_TX = 'ISOLATION LEVEL REPEATABLE READ READ ONLY';
/** Events lock their user's seq row: the group commit takes them in this key's order. */
const userOfEvent = (e: EventParams) => e.userId;

/** Options for {@link createPgStoreOver}. */
interface PgStoreOptions {
  /** Wall clock for stored timestamps; inject a fake in tests. */
  clock?: Clock;
  logger?: Logger;
  /** How often an unhealthy store probes the server (default 1 s). */
  probeIntervalMs?: number;
  /**
   * Who holds this store's outbox leases (the instance id); default a random UUID, so two store
   * objects never share leases.
   */
  leaseHolder?: string;
}

/** Builds the store over an open pool (migrated by the caller); the store owns the pool now. */
export function createPgStoreOver(handle: PgHandle, options: PgStoreOptions = {}): Store {
  return new PgStore(handle, options);
}

class PgStore implements Store {
  private readonly clock: Clock;
  private readonly health: PgHealth;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly leaseHolder: string;
  private closed = false;
  /** The breaker state every instance on this database shares. */
  readonly sharedBreaker: SharedBreakerStore = {
    readSharedBreaker: (backend) => this.read((q) => selectSharedBreaker(q, backend)),
    writeSharedBreaker: (backend, snapshot, expectedVersion) => {
      const nowWallMs = this.clock.wallMs();
      return this.write(
        (q) => casSharedBreaker(q, backend, snapshot, expectedVersion, nowWallMs),
        true,
      );
    },
    acquireProbeTicket: (backend, version, maxProbes, ticketMs) => {
      const nowWallMs = this.clock.wallMs();
      return this.write(
        (q) => takeProbeTicket(q, backend, version, maxProbes, ticketMs, nowWallMs),
        true,
      );
    },
  };

  /** Group commit of concurrent appends (batch.ts). */
  private readonly messageCommits = new GroupCommit<MessageParams, AppendResult>({
    runBatch: (rows) =>
      this.attempt((q) => inLockOrder(rows, lockKeyOfMessage, (s) => insertMessages(q, s)), true),
    runOne: (row) => this.attempt((q) => insertMessage(q, row), true),
    isStorageFailure,
  });
  private readonly eventCommits = new GroupCommit<EventParams, number>({
    runBatch: (rows) =>
      this.attempt((q) => inLockOrder(rows, userOfEvent, (s) => recordEvents(q, s)), true),
    runOne: (row) => this.attempt((q) => recordEvents(q, [row]).then(([seq]) => seq!), true),
    isStorageFailure,
  });

  constructor(
    private readonly handle: PgHandle,
    options: PgStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.leaseHolder = options.leaseHolder ?? crypto.randomUUID();
    const log = options.logger ?? silentLogger;
    this.health = new PgHealth(
      log,
      () => probePgWrite(handle.sql),
      options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
    );
  }

  private get sql(): SQL {
    return this.handle.sql;
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new LifelineError('unavailable', 'storage is closed', { fix: 'the daemon is stopping' }),
      );
    }
    const promise = run();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private mapError(error: unknown): unknown {
    const failure = classifyPgError(error);
    if (failure === null) return error;
    this.health.failed(failure);
    return pgUnavailableError(failure, error);
  }

  /**
   * One write transaction, run again when it lost a race; resolves after COMMIT. `single` marks a
   * write that is one statement: it runs autocommitted, saving the BEGIN and COMMIT round trips.
   */
  private write<T>(fn: (tx: SQL) => Promise<T>, single = false): Promise<T> {
    return this.track(() => this.attempt(fn, single));
  }

  /** {@link write} without the closed check: group commits run it after the call was tracked. */
  private async attempt<T>(fn: (tx: SQL) => Promise<T>, single: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = single ? await fn(this.sql) : ((await this.sql.begin((tx) => fn(tx))) as T);
        this.health.succeeded();
        return value;
      } catch (error) {
        if (isRetryable(error) && attempt < MAX_WRITE_ATTEMPTS) continue;
        throw this.mapError(error);
      }
    }
  }

  /** A read; `snapshot` runs it in one REPEATABLE READ READ ONLY transaction. */
  private read<T>(fn: (q: SQL) => Promise<T>, snapshot = false): Promise<T> {
    return this.track(async () => {
      try {
        if (!snapshot) return await fn(this.sql);
        return (await this.sql.begin(SNAPSHOT_TX, (tx) => fn(tx))) as T;
      } catch (error) {
        throw this.mapError(error);
      }
    });
  }

  /** A drizzle call (admin paths); failures mapped like any write. */
  private admin<T>(fn: () => Promise<T>, isWrite: boolean): Promise<T> {
    return this.track(async () => {
      try {
        const value = await fn();
        if (isWrite) this.health.succeeded();
        return value;
      } catch (error) {
        throw this.mapError(error);
      }
    });
  }

  appendMessage(message: NewMessage): Promise<AppendResult> {
    return this.track(async () => {
      const params = messageParams(message, this.clock.wallMs());
      if (!turns.touchesTurns(message)) return this.messageCommits.submit(params);
      return this.attempt((tx) => turns.appendWithTurn(tx, params, message), false);
    });
  }

  readonly readTurn: Store['readTurn'] = (id) => this.read((q) => turns.selectTurn(q, id));
  readonly openTurns: Store['openTurns'] = (n, thread) =>
    this.read((q) => turns.selectOpenTurns(q, n, thread));
  readonly updateTurn: Store['updateTurn'] = (id, update) =>
    this.write((q) => turns.writeTurnUpdate(q, id, update, this.clock.wallMs()), true);
  readonly leaseTurns: Store['leaseTurns'] = (id, holder, until) =>
    this.write((q) => leaseThreadTurns(q, id, holder, until, this.clock.wallMs()), true);
  readonly releaseTurns: Store['releaseTurns'] = (id, holder) =>
    this.write((q) => releaseThreadTurns(q, id, holder), true);

  threadOwner(threadId: string): Promise<string | null> {
    return this.read((q) => selectThreadOwner(q, threadId));
  }

  recentMessages(threadId: string, limit: number): Promise<StoredMessage[]> {
    return this.read((q) => selectRecentMessages(q, threadId, limit));
  }

  setPreferences(userId: string, preferences: unknown): Promise<number> {
    return this.write((tx) => writePreferences(tx, userId, preferences, this.clock.wallMs()));
  }

  setPersonalization(userId: string, threadId: string, state: unknown) {
    return this.write((tx) =>
      writePersonalization(tx, userId, threadId, state, this.clock.wallMs()),
    );
  }

  appendEvent(userId: string, type: string, payload: unknown): Promise<number> {
    return this.track(async () =>
      this.eventCommits.submit(eventParams(userId, type, payload, this.clock.wallMs())),
    );
  }

  readSnapshot(userId: string, ids: string[], recent: number, options?: SnapshotOptions) {
    return this.read((q) => readSnapshotRows(q, userId, ids, recent, options), true);
  }

  eventsSince(userId: string, sinceSeq: number, maxEvents: number): Promise<EventsSinceResult> {
    return this.read((q) => readEventsSince(q, userId, sinceSeq, maxEvents), true);
  }

  trimHistory(maxEvents: number, ttlMs: number, nowWallMs: number): Promise<number> {
    return this.write((tx) => deleteOldEvents(tx, maxEvents, ttlMs, nowWallMs));
  }

  claimBatch(options: ClaimOptions): Promise<OutboxBatch[]> {
    return this.write(
      (q) => claimPendingBatches(q, options, this.leaseHolder, this.clock.wallMs()),
      true,
    );
  }

  async markDelivered(ids: string[], options?: SettleOptions): Promise<void> {
    const nowWallMs = this.clock.wallMs();
    const lease = this.settleLease(options);
    await this.write((q) => updateDelivery(q, ids, { kind: 'delivered', nowWallMs }, lease), true);
  }

  async recordAttemptFailure(ids: string[], error: string, options?: SettleOptions): Promise<void> {
    const lease = this.settleLease(options);
    await this.write((q) => updateDelivery(q, ids, { kind: 'failed', error }, lease), true);
  }

  async markDead(ids: string[], reason: string, options?: SettleOptions): Promise<void> {
    const lease = this.settleLease(options);
    await this.write((q) => updateDelivery(q, ids, { kind: 'dead', error: reason }, lease), true);
  }

  async releaseLeases(threadIds: string[]): Promise<void> {
    await this.write((q) => releaseThreadLeases(q, threadIds, this.leaseHolder), true);
  }

  private settleLease(options: SettleOptions | undefined): LeaseSettle {
    const keepMs = options?.keepLeaseMs;
    const keepUntilWallMs = keepMs === undefined ? null : this.clock.wallMs() + keepMs;
    return { holder: this.leaseHolder, keepUntilWallMs };
  }

  outboxStats(): Promise<OutboxStats> {
    return this.read((q) => countByState(q));
  }

  deadLetters(limit: number): Promise<OutboxMessage[]> {
    return this.read((q) => selectDeadLetters(q, limit));
  }

  searchLocal(threadId: string, query: string, limit: number): Promise<SearchHit[]> {
    return this.read((q) => searchThread(q, threadId, query, limit));
  }

  deleteThreadMessages(threadId: string): Promise<number> {
    return this.write((tx) => deleteMessagesOfThread(tx, threadId));
  }

  loadBreakerState(backend: string): Promise<StoredBreakerState | null> {
    return this.admin(() => selectBreakerState(this.handle.db, backend), false);
  }

  saveBreakerState(backend: string, snapshot: StoredBreakerState): Promise<void> {
    const now = this.clock.wallMs();
    return this.admin(() => upsertBreakerState(this.handle.db, backend, snapshot, now), true);
  }

  listOverrides(): Promise<RuntimeOverride[]> {
    return this.admin(() => selectOverrides(this.handle.db), false);
  }

  updateOverrides<T>(plan: OverridePlan<T>, actor: string): Promise<T> {
    const now = this.clock.wallMs();
    return this.admin(() => applyOverridePlan(this.handle.db, plan, actor, now), true);
  }

  setOverride(key: string, valueJson: string, actor: string): Promise<void> {
    return this.updateOverrides(setOverridePlan(key, valueJson), actor);
  }

  unsetOverride(key: string, actor: string): Promise<boolean> {
    return this.updateOverrides(unsetOverridePlan(key), actor);
  }

  auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.admin(() => selectAuditTrail(this.handle.db, limit), false);
  }

  epoch(): Promise<string> {
    return this.read((q) => readEpoch(q));
  }

  async backupTo(_path: string): Promise<void> {
    throw backupUnsupported();
  }

  quickCheck(): Promise<CheckOutcome> {
    return this.read((q) => runPgCheck(q, false));
  }

  integrityCheck(): Promise<CheckOutcome> {
    return this.read((q) => runPgCheck(q, true), true);
  }

  async probeWrite(): Promise<StorageHealth> {
    const outcome = await probePgWrite(this.sql);
    if (outcome.ok) this.health.succeeded();
    return outcome;
  }

  async journalMode(): Promise<string> {
    return 'postgresql';
  }

  storageHealth(): StorageHealth {
    return this.health.current();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await Promise.allSettled([...this.inFlight]);
    await this.handle.close();
  }
}
