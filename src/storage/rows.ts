/**
 * @module Row mappers both engines share: a message row as each engine's SQL selects it (its
 * MESSAGE_COLUMNS, metadata still JSON text) becomes a {@link StoredMessage} / {@link
 * OutboxMessage} of the store contract.
 */
import type { NewMessage, OutboxMessage, StoredMessage } from './store.ts';

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
