/**
 * @module SQLite: the outbox view of the message log, and the local-memory FTS5 search over it.
 * Claiming is a read: a crash before `markDelivered` leaves messages pending, and redelivery is
 * safe because each carries its stable UUID (docs/design.md#memory).
 */
import type { Database } from 'bun:sqlite';
import { type MessageRow, type OutboxRow, toOutboxMessage, toStoredMessage } from '../rows.ts';
import type { ClaimOptions, OutboxBatch, OutboxMessage, OutboxStats, SearchHit } from '../store.ts';
import { MESSAGE_COLUMNS } from './messages.ts';

/** Longest error text kept per message; a reason, not a response body. */
const MAX_ERROR_CHARS = 1000;
/** Most words of a search query passed to FTS5. */
const MAX_QUERY_TERMS = 32;

const OUTBOX_COLUMNS = `${MESSAGE_COLUMNS}, m.state AS state, m.attempts AS attempts,
  m.last_error AS lastError`;

/** Pending messages grouped by thread: the threads whose oldest pending message is oldest first. */
export function selectPendingBatches(sqlite: Database, options: ClaimOptions): OutboxBatch[] {
  if (options.maxThreads <= 0 || options.batchSize <= 0) return [];
  const excluded = JSON.stringify([...(options.excludeThreads ?? [])]);
  const threads = sqlite
    .query(
      `SELECT thread_id AS threadId, MIN(n) AS first FROM messages
       WHERE state = 'pending' AND thread_id NOT IN (SELECT value FROM json_each(?))
       GROUP BY thread_id ORDER BY first LIMIT ?`,
    )
    .all(excluded, options.maxThreads) as Array<{ threadId: string }>;
  const perThread = sqlite.query(
    `SELECT ${OUTBOX_COLUMNS} FROM messages m
     WHERE m.state = 'pending' AND m.thread_id = ? ORDER BY m.n LIMIT ?`,
  );
  return threads.map(({ threadId }) => ({
    threadId,
    messages: (perThread.all(threadId, options.batchSize) as OutboxRow[]).map(toOutboxMessage),
  }));
}

/** Sets pending messages to `state`; delivered ones get a delivery time, failed ones a reason. */
export function updateDelivery(
  sqlite: Database,
  ids: string[],
  change: { kind: 'delivered'; nowWallMs: number } | { kind: 'failed' | 'dead'; error: string },
): number {
  if (ids.length === 0) return 0;
  const list = JSON.stringify(ids);
  const where = `state = 'pending' AND id IN (SELECT value FROM json_each(?))`;
  if (change.kind === 'delivered') {
    return sqlite
      .query(`UPDATE messages SET state = 'delivered', delivered_at = ? WHERE ${where}`)
      .run(change.nowWallMs, list).changes;
  }
  const error = change.error.slice(0, MAX_ERROR_CHARS);
  const state = change.kind === 'dead' ? 'dead' : 'pending';
  return sqlite
    .query(`UPDATE messages SET state = ?, attempts = attempts + 1, last_error = ? WHERE ${where}`)
    .run(state, error, list).changes;
}

/**
 * Message counts by delivery state, from the counters the triggers of migration 0003 keep in the
 * same transactions as the rows (a GROUP BY over the whole log blocked the event loop).
 */
export function countByState(sqlite: Database): OutboxStats {
  const rows = sqlite.query('SELECT state, n FROM outbox_counts').all() as Array<{
    state: keyof OutboxStats;
    n: number;
  }>;
  const stats: OutboxStats = { pending: 0, dead: 0, delivered: 0 };
  for (const r of rows) stats[r.state] = r.n;
  return stats;
}

/** The newest dead letters first. */
export function selectDeadLetters(sqlite: Database, limit: number): OutboxMessage[] {
  const rows = sqlite
    .query(
      `SELECT ${OUTBOX_COLUMNS} FROM messages m WHERE m.state = 'dead' ORDER BY m.n DESC LIMIT ?`,
    )
    .all(Math.max(0, limit)) as OutboxRow[];
  return rows.map(toOutboxMessage);
}

/**
 * Turns user text into a safe FTS5 query: the words (letters, digits, marks) each as a quoted
 * string, OR-ed together. No operator, quote, `*` or `NEAR(` from the user reaches FTS5 syntax.
 * Returns null when the text has no words.
 */
function toFtsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}\p{M}\p{Co}]+/gu);
  if (words === null) return null;
  const unique = [...new Set(words.map((w) => w.toLowerCase()))].slice(0, MAX_QUERY_TERMS);
  return unique.map((w) => `"${w}"`).join(' OR ');
}

/** Messages of a thread matching `query`, best first. */
export function searchThread(
  sqlite: Database,
  threadId: string,
  query: string,
  limit: number,
): SearchHit[] {
  const match = toFtsQuery(query);
  if (match === null || limit <= 0) return [];
  const rows = sqlite
    .query(
      `SELECT ${MESSAGE_COLUMNS}, bm25(messages_fts) AS rank
       FROM messages_fts JOIN messages m ON m.n = messages_fts.rowid
       WHERE messages_fts MATCH ? AND m.thread_id = ?
       ORDER BY rank LIMIT ?`,
    )
    .all(match, threadId, limit) as Array<MessageRow & { rank: number }>;
  return rows.map(({ rank, ...row }) => ({ message: toStoredMessage(row), score: -rank }));
}
