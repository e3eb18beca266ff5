/**
 * @module PostgreSQL: the outbox view of the message log. Claiming is a read, as on SQLite: a
 * crash before `markDelivered` leaves messages pending and redelivery is safe (stable UUIDs).
 * Cross-instance leases (one deliverer per thread) are layered on top in cluster mode.
 */
import type { SQL } from 'bun';
import { MESSAGE_COLUMNS, type OutboxRow, toOutboxMessage } from './pg-messages.ts';
import type { ClaimOptions, OutboxBatch, OutboxMessage, OutboxStats } from './store.ts';

/** Longest error text kept per message; a reason, not a response body. */
export const MAX_ERROR_CHARS = 1000;

const OUTBOX_COLUMNS = `${MESSAGE_COLUMNS}, m.state AS "state", m.attempts AS "attempts",
  m.last_error AS "lastError"`;

/**
 * Pending messages grouped by thread: the threads whose oldest pending message is oldest first,
 * each thread's messages in commit order. Run in one REPEATABLE READ transaction.
 */
export async function selectPendingBatches(q: SQL, options: ClaimOptions): Promise<OutboxBatch[]> {
  if (options.maxThreads <= 0 || options.batchSize <= 0) return [];
  const excluded = [...(options.excludeThreads ?? [])];
  const threads = (await q`SELECT thread_id AS "threadId", MIN(n) AS first FROM messages
    WHERE state = 'pending' AND NOT (thread_id = ANY(${q.array(excluded, 'TEXT')}))
    GROUP BY thread_id ORDER BY first LIMIT ${options.maxThreads}`) as Array<{ threadId: string }>;
  const batches: OutboxBatch[] = [];
  for (const { threadId } of threads) {
    const rows = (await q.unsafe(
      `SELECT ${OUTBOX_COLUMNS} FROM messages m
       WHERE m.state = 'pending' AND m.thread_id = $1 ORDER BY m.n LIMIT $2`,
      [threadId, options.batchSize],
    )) as OutboxRow[];
    batches.push({ threadId, messages: rows.map(toOutboxMessage) });
  }
  return batches;
}

/** Sets pending messages to `state`; delivered ones get a delivery time, failed ones a reason. */
export async function updateDelivery(
  q: SQL,
  ids: string[],
  change: { kind: 'delivered'; nowWallMs: number } | { kind: 'failed' | 'dead'; error: string },
): Promise<number> {
  if (ids.length === 0) return 0;
  const list = q.array(ids, 'TEXT');
  if (change.kind === 'delivered') {
    const result =
      await q`UPDATE messages SET state = 'delivered', delivered_at = ${change.nowWallMs}
      WHERE state = 'pending' AND id = ANY(${list})`;
    return result.count;
  }
  const error = change.error.slice(0, MAX_ERROR_CHARS);
  const state = change.kind === 'dead' ? 'dead' : 'pending';
  const result = await q`UPDATE messages
    SET state = ${state}, attempts = attempts + 1, last_error = ${error}
    WHERE state = 'pending' AND id = ANY(${list})`;
  return result.count;
}

/** Message counts by delivery state. */
export async function countByState(q: SQL): Promise<OutboxStats> {
  const rows =
    (await q`SELECT state, COUNT(*)::float8 AS n FROM messages GROUP BY state`) as Array<{
      state: keyof OutboxStats;
      n: number;
    }>;
  const stats: OutboxStats = { pending: 0, dead: 0, delivered: 0 };
  for (const r of rows) stats[r.state] = r.n;
  return stats;
}

/** The newest dead letters first. */
export async function selectDeadLetters(q: SQL, limit: number): Promise<OutboxMessage[]> {
  const rows = (await q.unsafe(
    `SELECT ${OUTBOX_COLUMNS} FROM messages m WHERE m.state = 'dead' ORDER BY m.n DESC LIMIT $1`,
    [Math.max(0, limit)],
  )) as OutboxRow[];
  return rows.map(toOutboxMessage);
}
