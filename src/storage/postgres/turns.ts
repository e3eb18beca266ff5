/**
 * @module PostgreSQL: assistant turns (storage/turns.ts). A message that creates or completes a
 * turn is appended in one READ COMMITTED transaction with its turn (the append function, then the
 * turn row), instead of sharing a group-commit statement: a resend racing its first write loses
 * with serialization_failure inside the append function and is run again, then answers the same
 * turn.
 */
import type { SQL } from 'bun';
import type { AppendResult, NewMessage } from '../store.ts';
import { type StoredTurn, TURN_COLUMN_LIST, type TurnUpdate, turnUpdatePairs } from '../turns.ts';
import { insertMessage, type MessageParams } from './messages.ts';

const NUMERIC = new Set(['message_seq', 'created_at', 'updated_at', 'next_attempt_at']);
const TURN_COLUMNS = TURN_COLUMN_LIST.map(([column, field]) =>
  NUMERIC.has(column) ? `${column}::float8 AS "${field}"` : `${column} AS "${field}"`,
).join(', ');

/** Whether appending `m` reads or writes a turn (then it runs in its own transaction). */
export function touchesTurns(m: NewMessage): boolean {
  return m.createTurn === true || m.completesTurn !== undefined;
}

/** Appends `params` and creates (or finds) its turn, or completes the turn it answers. */
export async function appendWithTurn(
  tx: SQL,
  params: MessageParams,
  m: NewMessage,
): Promise<AppendResult> {
  const result = await insertMessage(tx, params);
  if (result.kind !== 'ok') return result;
  if (result.duplicate) {
    const [row] = await tx`SELECT turn_id AS "turnId" FROM turns WHERE message_id = ${m.id}`;
    const turnId = (row as { turnId: string } | undefined)?.turnId;
    return turnId === undefined ? result : { ...result, turnId };
  }
  if (m.completesTurn !== undefined) {
    await writeTurnUpdate(
      tx,
      m.completesTurn,
      { status: m.completesAs ?? 'complete', text: m.content },
      params.nowWallMs,
    );
  }
  if (!m.createTurn) return result;
  const turnId = crypto.randomUUID();
  await tx`INSERT INTO turns (turn_id, user_id, thread_id, message_id, message_seq, status, attempt,
      text, created_at, updated_at)
    VALUES (${turnId}, ${m.userId}, ${m.threadId}, ${m.id}, ${result.seq}, 'queued', 0, '',
      ${params.nowWallMs}, ${params.nowWallMs})`;
  return { ...result, turnId };
}

/** Applies an update; false when there is no such turn. */
export async function writeTurnUpdate(
  q: SQL,
  turnId: string,
  update: TurnUpdate,
  nowWallMs: number,
): Promise<boolean> {
  const pairs = turnUpdatePairs(update);
  const sets = [
    ...pairs.map(([column], i) => `${column} = $${i + 1}`),
    `updated_at = $${pairs.length + 1}`,
  ];
  const values = [...pairs.map(([, value]) => value), nowWallMs, turnId];
  const result = await q.unsafe(
    `UPDATE turns SET ${sets.join(', ')} WHERE turn_id = $${pairs.length + 2}`,
    values,
  );
  return (result as unknown as { count: number }).count > 0;
}

/** One turn, or null. */
export async function selectTurn(q: SQL, turnId: string): Promise<StoredTurn | null> {
  const rows = (await q.unsafe(`SELECT ${TURN_COLUMNS} FROM turns WHERE turn_id = $1`, [
    turnId,
  ])) as StoredTurn[];
  return rows[0] ?? null;
}

/** Open turns (of `threadId` only, when given), oldest first. */
export async function selectOpenTurns(
  q: SQL,
  limit: number,
  threadId?: string,
): Promise<StoredTurn[]> {
  const rows = (await q.unsafe(
    `SELECT ${TURN_COLUMNS} FROM turns WHERE status IN ('queued', 'streaming', 'deferred')
       AND ($2::text IS NULL OR thread_id = $2)
     ORDER BY created_at, message_seq LIMIT $1`,
    [limit, threadId ?? null],
  )) as StoredTurn[];
  return [...rows];
}
