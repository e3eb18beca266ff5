/**
 * @module The storage interfaces the rest of lifeline codes against, all asynchronous (one contract
 * for SQLite and PostgreSQL, docs/design.md#operations). Each write resolves only after its transaction is durably committed; a storage
 * failure (disk full, I/O error, read-only) rejects with LifelineError code `unavailable`
 * (docs/design.md#storage-failure).
 */
import type { MessageTurnFields, TurnLink, TurnStore } from './turns.ts';

/** Roles a client may give a message (Zep's role types minus `norole`/`function`; decision). */
export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
/** Who wrote a message: one of {@link MESSAGE_ROLES}, validated where it comes in. */
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Delivery state of a message in the outbox. */
type DeliveryState = 'pending' | 'delivered' | 'dead';

/** A message to commit to the log/outbox. */
export interface NewMessage extends MessageTurnFields {
  userId: string;
  threadId: string;
  /** The client's UUID; the dedupe key (docs/design.md#duplicate-ids). */
  id: string;
  role: MessageRole;
  /** Stored byte for byte (docs/design.md#content-rules). */
  content: string;
  metadata?: unknown;
  /**
   * Store the row as already delivered: the local memory backend indexes a message in the same
   * transaction (the FTS5 trigger), so there is nothing left for the outbox to do. Adapters that
   * cannot honour it store the row pending, and the flusher's no-op delivery settles it.
   */
  deliveredAtCommit?: boolean;
}

/**
 * Outcome of {@link MessageStore.appendMessage}. A new message comes back as the row was written
 * (what a later read returns, `created_at` included), for the push; a duplicate only names the seq
 * of the first write.
 */
export type AppendResult =
  | ({ kind: 'ok'; seq: number; duplicate: false; message: StoredMessage } & TurnLink)
  | ({ kind: 'ok'; seq: number; duplicate: true } & TurnLink)
  | { kind: 'forbidden_thread' }
  /** The id already exists for another user or thread. */
  | { kind: 'conflict' };

/** A message as read back from the log. */
export interface StoredMessage {
  id: string;
  threadId: string;
  userId: string;
  role: MessageRole;
  content: string;
  /** Parsed metadata, or null when none was given. */
  metadata: unknown;
  createdAtWallMs: number;
  /** The user's event sequence number of this message's `message` event. */
  seq: number;
}

/** A message waiting in (or failed out of) the outbox. */
export interface OutboxMessage extends StoredMessage {
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
}

/** Pending messages of one thread, oldest first. */
export interface OutboxBatch {
  threadId: string;
  messages: OutboxMessage[];
}

/** Options for {@link OutboxStore.claimBatch}. */
export interface ClaimOptions {
  /**
   * At most this many threads (docs/design.md#drain-after-recovery: outbox.max_in_flight minus
   * those in flight).
   */
  maxThreads: number;
  /** At most this many messages per thread. */
  batchSize: number;
  /** Threads with a batch already in flight; one batch per thread at a time. */
  excludeThreads?: Iterable<string>;
  /**
   * Cluster mode: each claimed thread is leased to this store for `leaseMs` (other instances skip
   * it until the lease is released by settling its batch, or lapses). Keep it above the longest
   * delivery. The single-process SQLite adapter ignores it. Default {@link DEFAULT_LEASE_MS}.
   */
  leaseMs?: number;
}

/** Default delivery lease of a claimed thread (cluster mode). */
export const DEFAULT_LEASE_MS = 60_000;

/** What settling messages does with their thread's delivery lease (cluster mode). */
export interface SettleOptions {
  /** Keep the lease, extended to this many ms from now: more of the same batch follows. */
  keepLeaseMs?: number;
}

/** Counts of messages by delivery state. */
export interface OutboxStats {
  pending: number;
  dead: number;
  delivered: number;
}

/** One event in a user's replay history. */
export interface HistoryEvent {
  seq: number;
  type: string;
  payload: unknown;
  createdAtWallMs: number;
}

/**
 * Outcome of {@link HistoryStore.eventsSince}; `gone` means replay is impossible
 * (docs/design.md#epochs).
 */
export type EventsSinceResult = { kind: 'ok'; events: HistoryEvent[] } | { kind: 'gone' };

/** What a thread contributes to a snapshot. */
export interface ThreadSnapshot {
  /** The stored personalization object, or null when never set. */
  personalization: unknown;
  /** The most recent messages (below the `beforeSeq` asked for, if any), oldest first. */
  messages: StoredMessage[];
}

/** How {@link StateStore.readSnapshot} picks each thread's messages. */
export interface SnapshotOptions {
  /** Only messages whose `seq` is below this (a page of older messages; docs/protocol.md §4.5). */
  beforeSeq?: number;
}

/** The rehydrate snapshot, read in one transaction (docs/design.md#snapshot-before-stream). */
export interface Snapshot {
  /** The last event sequence number the snapshot covers (0 when the user has none). */
  seq: number;
  /** The stored preferences object, or null when never set. */
  preferences: unknown;
  /** Only threads the user owns; others (and threads nobody owns yet) are left out. */
  threads: Record<string, ThreadSnapshot>;
}

/** A local-memory search hit. */
export interface SearchHit {
  message: StoredMessage;
  /** FTS5 bm25 rank turned into a score; higher is better. */
  score: number;
}

/**
 * The persisted breaker snapshot. Declared here because storage cannot import the breaker layer;
 * the breaker's own snapshot type is structurally the same.
 */
export interface StoredBreakerState {
  state: string;
  consecutiveFailures: number;
  openedAtWallMs: number | null;
  nextProbeAtWallMs: number | null;
  reopenCount: number;
  lastError: string | null;
  /** Why the circuit is (or last was) open; null when closed by success or reset. */
  reason: string | null;
}

/** A runtime config override row. */
export interface RuntimeOverride {
  key: string;
  /** The value as JSON text. */
  valueJson: string;
  actor: string;
  updatedAtWallMs: number;
}

/** One audit trail entry; `oldJson`/`newJson` are null when the key was unset. */
export interface AuditEntry {
  key: string;
  oldJson: string | null;
  newJson: string | null;
  actor: string;
  atWallMs: number;
}

/** Result of quick_check / integrity_check. */
export interface CheckOutcome {
  ok: boolean;
  /** SQLite's messages when not ok (at most a few). */
  problems: string[];
}

/** Whether writes currently succeed (docs/design.md#storage-failure); read by /readyz. */
export interface StorageHealth {
  ok: boolean;
  reason?: string;
}

/** Message log and thread ownership. */
export interface MessageStore {
  /**
   * Commits a message (ownership, dedupe, seq, and its `message` history event built from the row,
   * storage/events.ts) in one transaction.
   */
  appendMessage(message: NewMessage): Promise<AppendResult>;
  /** The owner of a thread, or null when nobody has written to it. */
  threadOwner(threadId: string): Promise<string | null>;
  /** The last `limit` messages of a thread, oldest first. */
  recentMessages(threadId: string, limit: number): Promise<StoredMessage[]>;
}

/** Preferences, personalization and generic events; each write takes the user's next seq. */
interface StateStore {
  /** Replaces the user's preferences; returns the seq of the `preferences` event. */
  setPreferences(userId: string, preferences: unknown): Promise<number>;
  /** Replaces a thread's personalization (creating the thread for the user on first write). */
  setPersonalization(
    userId: string,
    threadId: string,
    state: unknown,
  ): Promise<{ kind: 'ok'; seq: number } | { kind: 'forbidden_thread' }>;
  /** Records an event (publish API, memory status) in the history; returns its seq. */
  appendEvent(userId: string, type: string, payload: unknown): Promise<number>;
  /**
   * Reads seq, preferences and the owned threads in one read transaction: each thread's newest
   * `recentMessages` messages (below `options.beforeSeq` when given), oldest first.
   */
  readSnapshot(
    userId: string,
    threadIds: string[],
    recentMessages: number,
    options?: SnapshotOptions,
  ): Promise<Snapshot>;
}

/** The per-user replay history. */
export interface HistoryStore {
  /** Events after `sinceSeq`, or `gone` when they cannot all be replayed. */
  eventsSince(userId: string, sinceSeq: number, maxEvents: number): Promise<EventsSinceResult>;
  /** Drops events beyond `maxEvents` per user and older than `ttlMs`; returns how many. */
  trimHistory(maxEvents: number, ttlMs: number, nowWallMs: number): Promise<number>;
}

/** Delivery bookkeeping over the message log. */
export interface OutboxStore {
  /**
   * Pending messages grouped by thread, oldest thread first, in commit order per thread. On a
   * shared database each returned thread is leased atomically: no two stores hold it at once.
   */
  claimBatch(options: ClaimOptions): Promise<OutboxBatch[]>;
  /** Marks messages delivered and releases their threads' leases (unless `keepLeaseMs`). */
  markDelivered(ids: string[], options?: SettleOptions): Promise<void>;
  /** Counts a failed attempt; the messages stay pending; releases the lease like markDelivered. */
  recordAttemptFailure(ids: string[], error: string, options?: SettleOptions): Promise<void>;
  /** Moves messages to the dead-letter state with the reason; releases the lease likewise. */
  markDead(ids: string[], reason: string, options?: SettleOptions): Promise<void>;
  /**
   * Releases this store's leases on threads whose batch was claimed but not sent (the circuit
   * refused it). Absent where leases are not shared (SQLite).
   */
  releaseLeases?(threadIds: string[]): Promise<void>;
  outboxStats(): Promise<OutboxStats>;
  /** The newest dead letters first. */
  deadLetters(limit: number): Promise<OutboxMessage[]>;
}

/** The local memory backend's full-text index (FTS5). */
export interface LocalMemoryStore {
  /** Messages of a thread matching the words of `query`; any user text is safe. */
  searchLocal(threadId: string, query: string, limit: number): Promise<SearchHit[]>;
  /** Deletes a thread's messages (and their index entries); returns how many. */
  deleteThreadMessages(threadId: string): Promise<number>;
}

/** Persisted circuit-breaker snapshots, one per backend. */
export interface BreakerStateStore {
  loadBreakerState(backend: string): Promise<StoredBreakerState | null>;
  saveBreakerState(backend: string, snapshot: StoredBreakerState): Promise<void>;
}

/** The breaker row as the instances of a cluster share it: a snapshot and its version. */
export interface SharedBreakerState extends StoredBreakerState {
  /** Bumped by every write; an instance adopts a version it has not seen. */
  version: number;
}

/** Outcome of {@link SharedBreakerStore.acquireProbeTicket}; `current` is the row as it stands. */
export interface ProbeTicket {
  granted: boolean;
  current: SharedBreakerState | null;
}

/**
 * One breaker state for all instances on a shared database (cluster mode): versioned writes, and
 * half-open probe tickets counted cluster-wide. Present on the PostgreSQL store only.
 */
export interface SharedBreakerStore {
  readSharedBreaker(backend: string): Promise<SharedBreakerState | null>;
  /**
   * Writes the snapshot when the row is still at `expectedVersion` (0: no row yet), or always
   * when it is null; returns whether it was applied and the row after the call.
   */
  writeSharedBreaker(
    backend: string,
    snapshot: StoredBreakerState,
    expectedVersion: number | null,
  ): Promise<{ applied: boolean; current: SharedBreakerState }>;
  /**
   * Takes one of `maxProbes` probe tickets of row version `version`, granted only while that
   * version is open and its probe time has come; tickets lapse after `ticketMs` (a prober died).
   */
  acquireProbeTicket(
    backend: string,
    version: number,
    maxProbes: number,
    ticketMs: number,
  ): Promise<ProbeTicket>;
}

/** One override to write: its value as JSON text, or null to remove it. */
export interface OverrideWrite {
  key: string;
  valueJson: string | null;
}

/**
 * Decides what to write from the overrides as they stand inside the write transaction, with
 * every other writer (in this process or another) locked out until COMMIT. Must be synchronous
 * and free of side effects: it may run again when a shared transaction is retried.
 */
export type OverridePlan<T> = (stored: readonly RuntimeOverride[]) => {
  writes: OverrideWrite[];
  result: T;
};

/** Runtime config overrides and their audit trail. */
interface RuntimeConfigStore {
  listOverrides(): Promise<RuntimeOverride[]>;
  /**
   * Reads every override, lets `plan` decide, and writes what it chose, in one transaction that
   * excludes all other override writers (docs/decisions.md "Runtime config writes are decided
   * inside the write"). A write that equals the stored value is skipped: no row, no audit.
   */
  updateOverrides<T>(plan: OverridePlan<T>, actor: string): Promise<T>;
  /** Sets one override (no audit when it already has that value). */
  setOverride(key: string, valueJson: string, actor: string): Promise<void>;
  /** Removes an override; returns false when there was none (nothing audited then). */
  unsetOverride(key: string, actor: string): Promise<boolean>;
  /** The newest entries first. */
  auditTrail(limit: number): Promise<AuditEntry[]>;
}

/** Checks and maintenance. */
interface MaintenanceStore {
  /** The database's random epoch (docs/design.md#epochs). */
  epoch(): Promise<string>;
  /**
   * Writes a consistent copy to `path` (VACUUM INTO) and gives the copy a new epoch.
   * @throws LifelineError `backup_target_exists` when `path` exists.
   */
  backupTo(path: string): Promise<void>;
  quickCheck(): Promise<CheckOutcome>;
  integrityCheck(): Promise<CheckOutcome>;
  /** Takes the write lock, writes a probe row, rolls back; ok when all of that worked. */
  probeWrite(): Promise<StorageHealth>;
  journalMode(): Promise<string>;
  storageHealth(): StorageHealth;
}

/** Everything lifeline stores. */
export interface Store
  extends MessageStore,
    StateStore,
    HistoryStore,
    OutboxStore,
    LocalMemoryStore,
    BreakerStateStore,
    RuntimeConfigStore,
    MaintenanceStore,
    TurnStore {
  /** Cluster mode: the breaker state every instance shares; absent on SQLite (one process). */
  readonly sharedBreaker?: SharedBreakerStore;
  /** Waits for queued writes, then checkpoints and closes. */
  close(): Promise<void>;
}

/** The plan of {@link RuntimeConfigStore.setOverride}: one value, unconditionally. */
export function setOverridePlan(key: string, valueJson: string): OverridePlan<void> {
  return () => ({ writes: [{ key, valueJson }], result: undefined });
}

/** The plan of {@link RuntimeConfigStore.unsetOverride}: true when there was a row to remove. */
export function unsetOverridePlan(key: string): OverridePlan<boolean> {
  return (stored) => {
    const found = stored.some((row) => row.key === key);
    return { writes: found ? [{ key, valueJson: null }] : [], result: found };
  };
}
