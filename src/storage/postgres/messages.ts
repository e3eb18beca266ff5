/**
 * @module PostgreSQL: the message log and thread ownership. A message, its owner check, its dedupe
 * and its history event commit in one statement, hence one transaction (docs/design.md#memory,
 * #duplicate-ids). Ownership is the threads primary key plus `ON CONFLICT DO NOTHING` and a
 * re-read: under READ COMMITTED the insert waits for a concurrent first writer and the re-read sees
 * whoever committed, so exactly one user owns a thread however many instances race.
 */
import type { SQL } from 'bun';
import { messageEventPayload } from '../events.ts';
import { type MessageRow, messageWriteOf, toStoredMessage } from '../rows.ts';
import type { AppendResult, NewMessage, StoredMessage } from '../store.ts';
import { MESSAGE_COLUMNS } from './columns.ts';
import { searchDocument } from './search.ts';

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

/** A message serialised for the append function (every value ready to bind). */
export interface MessageParams {
  id: string;
  threadId: string;
  userId: string;
  role: string;
  content: string;
  metadata: string | null;
  nowWallMs: number;
  payload: string;
  search: string;
  /** The row as a later read returns it, seq aside: what a successful append answers. */
  row: Omit<StoredMessage, 'seq'>;
}

/**
 * Serialises `m` for {@link insertMessage} / {@link insertMessages}: a value that cannot be
 * serialised throws here, before the database and before it can share a statement with others.
 * The `message` event payload is built from the row (storage/events.ts).
 */
export function messageParams(m: NewMessage, nowWallMs: number): MessageParams {
  const { row, metadataJson } = messageWriteOf(m, nowWallMs);
  return {
    id: row.id,
    threadId: row.threadId,
    userId: row.userId,
    role: row.role,
    content: row.content,
    metadata: metadataJson,
    nowWallMs,
    payload: JSON.stringify(messageEventPayload(row)),
    search: searchDocument(row.content),
    row,
  };
}

/** Rows locked by an append: the user's seq counter, then the thread (sorted in that order). */
export function lockKeyOfMessage(m: MessageParams): string {
  return `${m.userId}\u0000${m.threadId}`;
}

function appendResultOf(m: MessageParams, kind: string, seq: number | null): AppendResult {
  switch (kind) {
    case 'ok':
      return { kind: 'ok', seq: seq!, duplicate: false, message: { ...m.row, seq: seq! } };
    case 'duplicate':
      return { kind: 'ok', seq: seq!, duplicate: true };
    case 'forbidden_thread':
      return { kind: 'forbidden_thread' };
    default:
      return { kind: 'conflict' };
  }
}

/**
 * The whole of appendMessage as one autocommitted statement: the `lifeline_append_message`
 * function (migrations-pg/0002) dedupes, checks ownership, takes the seq and writes the history
 * and message rows.
 */
export async function insertMessage(q: SQL, m: MessageParams): Promise<AppendResult> {
  const [row] = await q`SELECT result_kind AS kind, result_seq::float8 AS seq
    FROM lifeline_append_message(${m.id}, ${m.threadId}, ${m.userId}, ${m.role}, ${m.content},
      ${m.metadata}, ${m.nowWallMs}, ${m.payload}, ${m.search})`;
  const { kind, seq } = row as { kind: string; seq: number | null };
  return appendResultOf(m, kind, seq);
}

/**
 * Several appends in ONE autocommitted statement (group commit): the append function is called
 * once per row, in array order, each call seeing the ones before it (a VOLATILE function takes a
 * new snapshot per statement), so dedupe, ownership and seq behave as if run one after another.
 * The rows travel as one JSON parameter. Results in `rows`' order.
 */
export async function insertMessages(q: SQL, rows: MessageParams[]): Promise<AppendResult[]> {
  const json = JSON.stringify(
    rows.map((m, i) => ({
      i,
      id: m.id,
      t: m.threadId,
      u: m.userId,
      r: m.role,
      c: m.content,
      m: m.metadata,
      n: m.nowWallMs,
      p: m.payload,
      s: m.search,
    })),
  );
  const found = (await q.unsafe(
    `SELECT x.i, a.result_kind AS kind, a.result_seq::float8 AS seq
     FROM json_to_recordset($1::text::json)
       AS x(i int, id text, t text, u text, r text, c text, m text, n bigint, p text, s text)
     CROSS JOIN LATERAL lifeline_append_message(x.id, x.t, x.u, x.r, x.c, x.m, x.n, x.p, x.s) a`,
    [json],
  )) as Array<{ i: number; kind: string; seq: number | null }>;
  if (found.length !== rows.length) {
    throw new Error(`batch append returned ${found.length} results for ${rows.length} messages`);
  }
  const results = new Array<AppendResult>(rows.length);
  for (const row of found) results[row.i] = appendResultOf(rows[row.i]!, row.kind, row.seq);
  return results;
}

/** The last `limit` messages of a thread, oldest first. */
export async function selectRecentMessages(
  q: SQL,
  threadId: string,
  limit: number,
  beforeSeq = Number.MAX_SAFE_INTEGER,
): Promise<StoredMessage[]> {
  if (limit <= 0) return [];
  const rows = (await q.unsafe(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.thread_id = $1 AND m.seq < $2
     ORDER BY m.n DESC LIMIT $3`,
    [threadId, beforeSeq, limit],
  )) as MessageRow[];
  return [...rows].reverse().map(toStoredMessage);
}

/** Deletes a thread's messages (their index entries go with the rows); returns how many. */
export async function deleteMessagesOfThread(q: SQL, threadId: string): Promise<number> {
  const result = await q`DELETE FROM messages WHERE thread_id = ${threadId}`;
  return result.count;
}
