/**
 * @module Row mappers both engines share: a message row as each engine's SQL selects it (its
 * MESSAGE_COLUMNS, metadata still JSON text) becomes a {@link StoredMessage} / {@link
 * OutboxMessage} of the store contract, history rows a replay; the breaker, override and audit rows (the same columns in
 * both schemas) map to and from theirs.
 */
import type {
  AuditEntry,
  EventsSinceResult,
  NewMessage,
  OutboxMessage,
  RuntimeOverride,
  StoredBreakerState,
  StoredMessage,
} from './store.ts';

/** A message as it will be written: the row (seq aside) and its metadata as stored JSON text. */
export interface MessageWrite {
  /** What reading the row back gives, seq aside: metadata parsed from the text stored. */
  row: Omit<StoredMessage, 'seq'>;
  metadataJson: string | null;
}

/**
 * The row `m` becomes when written at `nowWallMs`. A value that cannot be serialised (a cycle)
 * throws here, before the database.
 */
export function messageWriteOf(m: NewMessage, nowWallMs: number): MessageWrite {
  const metadataJson = m.metadata === undefined ? null : (JSON.stringify(m.metadata) ?? null);
  return {
    row: {
      id: m.id,
      threadId: m.threadId,
      userId: m.userId,
      role: m.role,
      content: m.content,
      metadata: metadataJson === null ? null : (JSON.parse(metadataJson) as unknown),
      createdAtWallMs: nowWallMs,
    },
    metadataJson,
  };
}

/** A raw row selected with an engine's MESSAGE_COLUMNS. */
export interface MessageRow extends Omit<StoredMessage, 'metadata'> {
  metadata: string | null;
}

/** Parses a row's metadata JSON (and drops any extra columns the query selected). */
export function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    threadId: row.threadId,
    userId: row.userId,
    role: row.role,
    content: row.content,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as unknown),
    createdAtWallMs: row.createdAtWallMs,
    seq: row.seq,
  };
}

/** A raw outbox row: {@link MessageRow} plus delivery columns. */
export interface OutboxRow extends MessageRow {
  state: OutboxMessage['state'];
  attempts: number;
  lastError: string | null;
}

/** Parses an outbox row's metadata JSON. */
export function toOutboxMessage(row: OutboxRow): OutboxMessage {
  return {
    ...toStoredMessage(row),
    state: row.state,
    attempts: row.attempts,
    lastError: row.lastError,
  };
}

/** The `breaker_state` columns both schemas share, as drizzle reads and writes them. */
interface BreakerRow {
  state: string;
  consecutiveFailures: number;
  openedAt: number | null;
  nextProbeAt: number | null;
  reopenCount: number;
  lastError: string | null;
  reason: string | null;
}

/** A `breaker_state` row as the store contract's snapshot. */
export function toStoredBreakerState(row: BreakerRow): StoredBreakerState {
  return {
    state: row.state,
    consecutiveFailures: row.consecutiveFailures,
    openedAtWallMs: row.openedAt,
    nextProbeAtWallMs: row.nextProbeAt,
    reopenCount: row.reopenCount,
    lastError: row.lastError,
    reason: row.reason,
  };
}

/** The columns a breaker snapshot saved at `nowWallMs` writes. */
export function breakerRowOf(
  s: StoredBreakerState,
  nowWallMs: number,
): BreakerRow & { updatedAt: number } {
  return {
    state: s.state,
    consecutiveFailures: s.consecutiveFailures,
    openedAt: s.openedAtWallMs,
    nextProbeAt: s.nextProbeAtWallMs,
    reopenCount: s.reopenCount,
    lastError: s.lastError,
    reason: s.reason,
    updatedAt: nowWallMs,
  };
}

/** A `runtime_overrides` row as the contract's override. */
export function toRuntimeOverride(r: {
  key: string;
  valueJson: string;
  actor: string;
  updatedAt: number;
}): RuntimeOverride {
  return { key: r.key, valueJson: r.valueJson, actor: r.actor, updatedAtWallMs: r.updatedAt };
}

/** A `runtime_config_audit` row as the contract's audit entry. */
export function toAuditEntry(r: {
  key: string;
  oldJson: string | null;
  newJson: string | null;
  actor: string;
  at: number;
}): AuditEntry {
  return { key: r.key, oldJson: r.oldJson, newJson: r.newJson, actor: r.actor, atWallMs: r.at };
}

/** A history row as each engine's replay query selects it, payload still JSON text. */
export interface EventRow {
  seq: number;
  type: string;
  payload: string;
  createdAtWallMs: number;
}

/**
 * The replay of `(sinceSeq, currentSeq]` from the rows read, in seq order: `gone` unless every
 * seq in that range is still there (a trimmed gap makes replay impossible).
 */
export function replayOf(
  rows: readonly EventRow[],
  sinceSeq: number,
  currentSeq: number,
): EventsSinceResult {
  if (rows.length !== currentSeq - sinceSeq || rows[0]?.seq !== sinceSeq + 1)
    return { kind: 'gone' };
  const events = rows.map((r) => ({
    seq: r.seq,
    type: r.type,
    payload: JSON.parse(r.payload) as unknown,
    createdAtWallMs: r.createdAtWallMs,
  }));
  return { kind: 'ok', events };
}
