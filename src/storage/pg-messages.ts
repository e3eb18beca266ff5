/**
 * @module PostgreSQL: the message log and thread ownership. A message, its owner check, its dedupe
 * and its history event commit in one transaction (SPEC §4, §8.11). Ownership is the threads
 * primary key plus `ON CONFLICT DO NOTHING` and a re-read: under READ COMMITTED the insert waits
 * for a concurrent first writer and the re-read sees whoever committed, so exactly one user owns
 * a thread however many instances race.
 */
import type { SQL } from 'bun';
import { recordEvent } from './pg-history.ts';
import { searchDocument } from './pg-search.ts';
import type { AppendResult, NewMessage, OutboxMessage, StoredMessage } from './store.ts';

/** Thrown inside a transaction to have the store run the whole transaction again. */
export class RetryTransaction extends Error {
  constructor(why: string) {
    super(`retry the transaction: ${why}`);
    this.name = 'RetryTransaction';
  }
}

/** Columns of a message row as a {@link StoredMessage}-shaped record (metadata still JSON text). */
export const MESSAGE_COLUMNS = `m.id AS "id", m.thread_id AS "threadId", m.user_id AS "userId",
  m.role AS "role", m.content AS "content", m.metadata AS "metadata",
  m.created_at::float8 AS "createdAtWallMs", m.seq::float8 AS "seq"`;

/** A raw row selected with {@link MESSAGE_COLUMNS}. */
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

/** The owner of a thread, or null. */
export async function selectThreadOwner(q: SQL, threadId: string): Promise<string | null> {
  const [row] = await q`SELECT user_id AS "userId" FROM threads WHERE id = ${threadId}`;
  return (row as { userId: string } | undefined)?.userId ?? null;
}

/** Makes `userId` the owner of `threadId` if nobody owns it; true when `userId` owns it now. */
export async function claimThread(
  q: SQL,
  userId: string,
  threadId: string,
  nowWallMs: number,
): Promise<boolean> {
  await q`INSERT INTO threads (id, user_id, created_at) VALUES (${threadId}, ${userId}, ${nowWallMs})
    ON CONFLICT (id) DO NOTHING`;
  return (await selectThreadOwner(q, threadId)) === userId;
}

async function existingOutcome(q: SQL, m: NewMessage): Promise<AppendResult | null> {
  const [row] = await q`SELECT thread_id AS "threadId", user_id AS "userId", seq::float8 AS seq
    FROM messages WHERE id = ${m.id}`;
  const existing = row as { threadId: string; userId: string; seq: number } | undefined;
  if (existing === undefined) return null;
  if (existing.userId === m.userId && existing.threadId === m.threadId) {
    return { kind: 'ok', seq: existing.seq, duplicate: true };
  }
  const owner = await selectThreadOwner(q, m.threadId);
  return owner !== null && owner !== m.userId ? { kind: 'forbidden_thread' } : { kind: 'conflict' };
}

/** The body of appendMessage; runs inside one READ COMMITTED transaction. */
export async function insertMessage(
  q: SQL,
  m: NewMessage,
  nowWallMs: number,
): Promise<AppendResult> {
  const metadata = m.metadata === undefined ? null : JSON.stringify(m.metadata);
  const existing = await existingOutcome(q, m);
  if (existing !== null) return existing;
  if (!(await claimThread(q, m.userId, m.threadId, nowWallMs))) return { kind: 'forbidden_thread' };
  const seq = await recordEvent(q, m.userId, 'message', m.pushPayload, nowWallMs);
  const inserted = await q`INSERT INTO messages
      (id, thread_id, user_id, role, content, metadata, created_at, seq, state, search)
    VALUES (${m.id}, ${m.threadId}, ${m.userId}, ${m.role}, ${m.content}, ${metadata},
      ${nowWallMs}, ${seq}, 'pending', to_tsvector('simple', ${searchDocument(m.content)}))
    ON CONFLICT (id) DO NOTHING RETURNING n`;
  // Another instance committed the same id after our first read: start over to answer duplicate.
  if (inserted.length === 0)
    throw new RetryTransaction(`message ${m.id} was inserted concurrently`);
  return { kind: 'ok', seq, duplicate: false };
}

/** The last `limit` messages of a thread, oldest first. */
export async function selectRecentMessages(
  q: SQL,
  threadId: string,
  limit: number,
): Promise<StoredMessage[]> {
  if (limit <= 0) return [];
  const rows = (await q.unsafe(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.thread_id = $1 ORDER BY m.n DESC LIMIT $2`,
    [threadId, limit],
  )) as MessageRow[];
  return [...rows].reverse().map(toStoredMessage);
}

/** Deletes a thread's messages (their index entries go with the rows); returns how many. */
export async function deleteMessagesOfThread(q: SQL, threadId: string): Promise<number> {
  const result = await q`DELETE FROM messages WHERE thread_id = ${threadId}`;
  return result.count;
}
