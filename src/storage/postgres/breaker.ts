/**
 * @module PostgreSQL: the breaker state shared by every instance of a cluster
 * (docs/design.md#operations, issue 9). The `breaker_state` row carries a version bumped by each
 * write; a transition is written only over the version its instance last saw (compare-and-set), so
 * a stale instance adopts the row instead of overwriting newer news. Half-open probes take tickets
 * on the row with one conditional UPDATE, so at most `half_open_max_calls` probes run across all
 * instances per open period; a ticket lapses after the probe timeout so a prober that died cannot
 * wedge the circuit.
 */
import type { SQL } from 'bun';
import type { ProbeTicket, SharedBreakerState, StoredBreakerState } from '../store.ts';

const ROW_COLUMNS = `state, consecutive_failures AS "consecutiveFailures",
  opened_at::float8 AS "openedAtWallMs", next_probe_at::float8 AS "nextProbeAtWallMs",
  reopen_count AS "reopenCount", last_error AS "lastError", reason, version::float8 AS version`;

/** The shared row of `backend`, or null when no instance has written one. */
export async function selectSharedBreaker(
  q: SQL,
  backend: string,
): Promise<SharedBreakerState | null> {
  const [row] = (await q.unsafe(`SELECT ${ROW_COLUMNS} FROM breaker_state WHERE backend = $1`, [
    backend,
  ])) as SharedBreakerState[];
  return row ?? null;
}

/**
 * Writes `s` as the next version when the row is at `expectedVersion` (0 when none exists) or
 * `expectedVersion` is null; the row after the call is returned either way.
 */
export async function casSharedBreaker(
  q: SQL,
  backend: string,
  s: StoredBreakerState,
  expectedVersion: number | null,
  nowWallMs: number,
): Promise<{ applied: boolean; current: SharedBreakerState }> {
  const [row] = (await q.unsafe(
    `INSERT INTO breaker_state AS b (backend, state, consecutive_failures, opened_at, next_probe_at,
       reopen_count, last_error, reason, updated_at, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
     ON CONFLICT (backend) DO UPDATE SET state = excluded.state,
       consecutive_failures = excluded.consecutive_failures, opened_at = excluded.opened_at,
       next_probe_at = excluded.next_probe_at, reopen_count = excluded.reopen_count,
       last_error = excluded.last_error, reason = excluded.reason,
       updated_at = excluded.updated_at, version = b.version + 1
     WHERE $10::bigint IS NULL OR b.version = $10::bigint
     RETURNING ${ROW_COLUMNS}`,
    [
      backend,
      s.state,
      s.consecutiveFailures,
      s.openedAtWallMs,
      s.nextProbeAtWallMs,
      s.reopenCount,
      s.lastError,
      s.reason,
      nowWallMs,
      expectedVersion,
    ],
  )) as SharedBreakerState[];
  if (row !== undefined) return { applied: true, current: row };
  const current = await selectSharedBreaker(q, backend);
  if (current === null) throw new Error(`breaker_state row of ${backend} vanished`);
  return { applied: false, current };
}

/**
 * Takes a probe ticket of `version` when that version is open, its probe time has come, and
 * fewer than `maxProbes` unexpired tickets of it are out. One statement: concurrent callers are
 * serialised by the row lock and each re-checks the count the previous one left.
 */
export async function takeProbeTicket(
  q: SQL,
  backend: string,
  version: number,
  maxProbes: number,
  ticketMs: number,
  nowWallMs: number,
): Promise<ProbeTicket> {
  const [row] = (await q.unsafe(
    `WITH ticket AS (
       UPDATE breaker_state SET
         probes = CASE WHEN probe_version = version AND probe_until > $3 THEN probes + 1 ELSE 1 END,
         probe_version = version, probe_until = $3::bigint + $5::bigint
       WHERE backend = $1 AND version = $2 AND state <> 'closed'
         AND COALESCE(next_probe_at, 0) <= $3
         AND (probe_version IS DISTINCT FROM version OR probe_until <= $3 OR probes < $4)
       RETURNING 1)
     SELECT (SELECT COUNT(*) FROM ticket)::int AS granted, ${ROW_COLUMNS}
     FROM breaker_state WHERE backend = $1`,
    [backend, version, nowWallMs, maxProbes, ticketMs],
  )) as Array<SharedBreakerState & { granted: number }>;
  if (row === undefined) return { granted: false, current: null };
  const { granted, ...current } = row;
  return { granted: granted > 0, current };
}
