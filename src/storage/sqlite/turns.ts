/**
 * @module SQLite: assistant turns (storage/turns.ts). The writes run inside the write queue's
 * transaction, next to the message they belong to.
 */
import type { Database } from 'bun:sqlite';
import { type StoredTurn, TURN_COLUMN_LIST, type TurnUpdate, turnUpdatePairs } from '../turns.ts';

const TURN_COLUMNS = TURN_COLUMN_LIST.map(([column, field]) => `${column} AS ${field}`).join(', ');

/** The turn of a user message, or undefined when it has none. */
export function selectTurnIdOfMessage(sqlite: Database, messageId: string): string | undefined {
  const row = sqlite
    .query('SELECT turn_id AS turnId FROM turns WHERE message_id = ?')
    .get(messageId) as { turnId: string } | null;
  return row?.turnId;
}

/** Creates the queued turn of a message just written; returns its id. */
export function insertTurn(
  sqlite: Database,
  m: { id: string; userId: string; threadId: string },
  messageSeq: number,
  nowWallMs: number,
): string {
  const turnId = crypto.randomUUID();
  sqlite
    .query(
      `INSERT INTO turns (turn_id, user_id, thread_id, message_id, message_seq, status, attempt,
         text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', 0, '', ?, ?)`,
    )
    .run(turnId, m.userId, m.threadId, m.id, messageSeq, nowWallMs, nowWallMs);
  return turnId;
}

/** Applies an update; false when there is no such turn. */
export function writeTurnUpdate(
  sqlite: Database,
  turnId: string,
  update: TurnUpdate,
  nowWallMs: number,
): boolean {
  const pairs = turnUpdatePairs(update);
  const sets = [...pairs.map(([column]) => `${column} = ?`), 'updated_at = ?'].join(', ');
  const values = pairs.map(([, value]) => value as string | number | null);
  return (
    sqlite.query(`UPDATE turns SET ${sets} WHERE turn_id = ?`).run(...values, nowWallMs, turnId)
      .changes > 0
  );
}

/** One turn, or null. */
export function selectTurn(sqlite: Database, turnId: string): StoredTurn | null {
  return sqlite
    .query(`SELECT ${TURN_COLUMNS} FROM turns WHERE turn_id = ?`)
    .get(turnId) as StoredTurn | null;
}

/** Open turns (of `threadId` only, when given), each thread's in message order, oldest first. */
export function selectOpenTurns(sqlite: Database, limit: number, threadId?: string): StoredTurn[] {
  return sqlite
    .query(
      `SELECT ${TURN_COLUMNS} FROM turns WHERE status IN ('queued', 'streaming', 'deferred')
         AND (?2 IS NULL OR thread_id = ?2)
       ORDER BY created_at, message_seq LIMIT ?1`,
    )
    .all(limit, threadId ?? null) as StoredTurn[];
}
