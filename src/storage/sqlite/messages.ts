/**
 * @module SQLite: the message log and thread ownership. A message, its owner check, its dedupe and
 * its history event commit in one transaction (docs/design.md#memory durable outbox, §8.11
 * duplicate ids).
 */
import type { Database } from 'bun:sqlite';
import { messageEventPayload } from '../events.ts';
import { type MessageRow, messageWriteOf, toStoredMessage } from '../rows.ts';
import type { AppendResult, NewMessage, StoredMessage } from '../store.ts';
import { recordEvent } from './history.ts';
import { insertTurn, selectTurnIdOfMessage, writeTurnUpdate } from './turns.ts';

/** Columns of a message row as a {@link StoredMessage}-shaped record (metadata still JSON text). */
export const MESSAGE_COLUMNS = `m.id AS id, m.thread_id AS threadId, m.user_id AS userId,
  m.role AS role, m.content AS content, m.metadata AS metadata,
  m.created_at AS createdAtWallMs, m.seq AS seq`;

/** The owner of a thread, or null. */
export function selectThreadOwner(sqlite: Database, threadId: string): string | null {
  const row = sqlite.query('SELECT user_id AS userId FROM threads WHERE id = ?').get(threadId) as {
    userId: string;
  } | null;
  return row?.userId ?? null;
}

/**
 * Makes `userId` the owner of `threadId` if nobody owns it; true when `userId` owns it now. The
 * primary key makes concurrent first writes by two users end with exactly one owner.
 */
export function claimThread(
  sqlite: Database,
  userId: string,
  threadId: string,
  nowWallMs: number,
): boolean {
  sqlite
    .query(
      'INSERT INTO threads (id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
    )
    .run(threadId, userId, nowWallMs);
  return selectThreadOwner(sqlite, threadId) === userId;
}

/** The write half of appendMessage; runs inside a group-commit transaction. */
export function insertMessage(sqlite: Database, m: NewMessage, nowWallMs: number): AppendResult {
  const { row, metadataJson } = messageWriteOf(m, nowWallMs);
  const existing = sqlite
    .query('SELECT thread_id AS threadId, user_id AS userId, seq FROM messages WHERE id = ?')
    .get(m.id) as { threadId: string; userId: string; seq: number } | null;
  if (existing !== null) {
    if (existing.userId === m.userId && existing.threadId === m.threadId) {
      const turnId = selectTurnIdOfMessage(sqlite, m.id);
      return { kind: 'ok', seq: existing.seq, duplicate: true, ...(turnId && { turnId }) };
    }
    const owner = selectThreadOwner(sqlite, m.threadId);
    return owner !== null && owner !== m.userId
      ? { kind: 'forbidden_thread' }
      : { kind: 'conflict' };
  }
  if (!claimThread(sqlite, m.userId, m.threadId, nowWallMs)) return { kind: 'forbidden_thread' };
  const seq = recordEvent(sqlite, m.userId, 'message', messageEventPayload(row), nowWallMs);
  sqlite
    .query(
      `INSERT INTO messages (id, thread_id, user_id, role, content, metadata, created_at, seq, state, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.id,
      row.threadId,
      row.userId,
      row.role,
      row.content,
      metadataJson,
      row.createdAtWallMs,
      seq,
      m.deliveredAtCommit ? 'delivered' : 'pending',
      m.deliveredAtCommit ? nowWallMs : null,
    );
  if (m.completesTurn !== undefined) {
    writeTurnUpdate(
      sqlite,
      m.completesTurn,
      { status: m.completesAs ?? 'complete', text: m.content },
      nowWallMs,
    );
  }
  const result: AppendResult = { kind: 'ok', seq, duplicate: false, message: { ...row, seq } };
  if (m.createTurn) result.turnId = insertTurn(sqlite, m, seq, nowWallMs);
  return result;
}

/** The last `limit` messages of a thread, oldest first. */
export function selectRecentMessages(
  sqlite: Database,
  threadId: string,
  limit: number,
  beforeSeq = Number.MAX_SAFE_INTEGER,
): StoredMessage[] {
  if (limit <= 0) return [];
  const rows = sqlite
    .query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.thread_id = ? AND m.seq < ?
       ORDER BY m.n DESC LIMIT ?`,
    )
    .all(threadId, beforeSeq, limit) as MessageRow[];
  return rows.reverse().map(toStoredMessage);
}

/** Deletes a thread's messages; the FTS5 delete trigger unindexes each one. */
export function deleteMessagesOfThread(sqlite: Database, threadId: string): number {
  return sqlite.query('DELETE FROM messages WHERE thread_id = ?').run(threadId).changes;
}
