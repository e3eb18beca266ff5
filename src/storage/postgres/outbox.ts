/**
 * @module PostgreSQL: the outbox view of the message log, shared by every instance of a cluster.
 * Each thread is delivered by one instance at a time through a lease on its `threads` row
 * (`leased_by`, `lease_until`): claiming takes it, settling releases it, and when an instance
 * dies its leases lapse and another takes the threads over. No connection or row lock is held
 * across the HTTP call to the memory service (docs/decisions-inbox/cluster-outbox.md). A crash
 * before `markDelivered` leaves messages pending; redelivery is safe (stable UUIDs).
 */
import type { SQL } from 'bun';
import { type OutboxRow, toOutboxMessage } from '../rows.ts';
import {
  type ClaimOptions,
  DEFAULT_LEASE_MS,
  type OutboxBatch,
  type OutboxMessage,
  type OutboxStats,
} from '../store.ts';
import { MESSAGE_COLUMNS } from './columns.ts';

/** Longest error text kept per message; a reason, not a response body. */
const MAX_ERROR_CHARS = 1000;

const OUTBOX_COLUMNS = `${MESSAGE_COLUMNS}, m.state AS "state", m.attempts AS "attempts",
  m.last_error AS "lastError"`;

/**
 * Claims pending batches for `holder` in one autocommitted statement and returns them: the
 * threads whose oldest pending message is oldest first, each thread's messages in commit order.
 * A thread is eligible when it is not excluded and its lease is free, lapsed (`lease_until` ≤
 * now) or already `holder`'s; the candidate rows are locked with SKIP LOCKED, so two instances
 * claiming at once never wait on each other or get the same thread, and the lease is written
 * before the statement returns. Under READ COMMITTED the lock re-checks the lease condition on
 * the newest row version, so a lease another instance committed a moment ago is respected.
 */
export async function claimPendingBatches(
  q: SQL,
  options: ClaimOptions,
  holder: string,
  nowWallMs: number,
): Promise<OutboxBatch[]> {
  if (options.maxThreads <= 0 || options.batchSize <= 0) return [];
  const excluded = q.array([...(options.excludeThreads ?? [])], 'TEXT');
  const untilWallMs = nowWallMs + Math.max(1, options.leaseMs ?? DEFAULT_LEASE_MS);
  const rows = (await q.unsafe(
    `WITH free AS (
       SELECT m.thread_id AS id, MIN(m.n) AS first
       FROM messages m JOIN threads t ON t.id = m.thread_id
       WHERE m.state = 'pending' AND NOT (m.thread_id = ANY($1::text[]))
         AND (t.leased_by IS NULL OR t.leased_by = $2 OR t.lease_until <= $3)
       GROUP BY m.thread_id ORDER BY first LIMIT $4),
     locked AS (
       SELECT t.id, free.first FROM threads t JOIN free ON free.id = t.id
       WHERE t.leased_by IS NULL OR t.leased_by = $2 OR t.lease_until <= $3
       FOR UPDATE OF t SKIP LOCKED),
     leased AS (
       UPDATE threads t SET leased_by = $2, lease_until = $5 FROM locked
       WHERE t.id = locked.id RETURNING t.id, locked.first)
     SELECT leased.first AS "first", ${OUTBOX_COLUMNS}
     FROM leased CROSS JOIN LATERAL (
       SELECT * FROM messages p WHERE p.state = 'pending' AND p.thread_id = leased.id
       ORDER BY p.n LIMIT $6) m
     ORDER BY leased.first, m.n`,
    [excluded, holder, nowWallMs, options.maxThreads, untilWallMs, options.batchSize],
  )) as Array<OutboxRow & { first: number }>;
  const batches: OutboxBatch[] = [];
  for (const { first: _first, ...row } of rows) {
    const message = toOutboxMessage(row);
    const last = batches.at(-1);
    if (last !== undefined && last.threadId === message.threadId) last.messages.push(message);
    else batches.push({ threadId: message.threadId, messages: [message] });
  }
  return batches;
}

/** What a settle does with the lease of the messages' threads: release, or keep until a time. */
export interface LeaseSettle {
  holder: string;
  /** Keep the lease until this wall time; null releases it. */
  keepUntilWallMs: number | null;
}

/**
 * Sets pending messages to `state` (delivered ones get a delivery time, failed ones a reason)
 * and releases or extends `holder`'s lease on their threads, in one autocommitted statement.
 * A lease that lapsed and was taken over by another instance is left alone.
 */
export async function updateDelivery(
  q: SQL,
  ids: string[],
  change: { kind: 'delivered'; nowWallMs: number } | { kind: 'failed' | 'dead'; error: string },
  lease: LeaseSettle,
): Promise<number> {
  if (ids.length === 0) return 0;
  const set =
    change.kind === 'delivered'
      ? `state = 'delivered', delivered_at = $4`
      : 'state = $4, attempts = attempts + 1, last_error = $5';
  const values =
    change.kind === 'delivered'
      ? [change.nowWallMs]
      : [change.kind === 'dead' ? 'dead' : 'pending', change.error.slice(0, MAX_ERROR_CHARS)];
  const [row] = (await q.unsafe(
    `WITH done AS (
       UPDATE messages SET ${set} WHERE state = 'pending' AND id = ANY($1::text[]) RETURNING 1),
     lease AS (
       UPDATE threads SET lease_until = $3::bigint,
         leased_by = CASE WHEN $3::bigint IS NULL THEN NULL ELSE leased_by END
       WHERE leased_by = $2 AND id IN (SELECT thread_id FROM messages WHERE id = ANY($1::text[]))
       RETURNING 1)
     SELECT COUNT(*)::int AS n FROM done`,
    [q.array(ids, 'TEXT'), lease.holder, lease.keepUntilWallMs, ...values],
  )) as Array<{ n: number }>;
  return row?.n ?? 0;
}

/** Releases `holder`'s leases on the given threads. */
export async function releaseThreadLeases(
  q: SQL,
  threadIds: string[],
  holder: string,
): Promise<void> {
  if (threadIds.length === 0) return;
  await q`UPDATE threads SET leased_by = NULL, lease_until = NULL
    WHERE leased_by = ${holder} AND id = ANY(${q.array(threadIds, 'TEXT')})`;
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
