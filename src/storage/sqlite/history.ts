/**
 * @module SQLite: per-user sequence numbers and the replay history (docs/design.md#websocket,
 * #epochs). The write helpers run inside the caller's transaction (group commit), so an event and
 * the change it announces commit together.
 */
import type { Database } from 'bun:sqlite';
import { type EventRow, replayOf } from '../rows.ts';
import type { EventsSinceResult } from '../store.ts';

/** Takes the user's next sequence number (1 for the first event). */
function nextSeq(sqlite: Database, userId: string): number {
  const row = sqlite
    .query(
      `INSERT INTO user_seq (user_id, last_seq) VALUES (?, 1)
       ON CONFLICT (user_id) DO UPDATE SET last_seq = last_seq + 1
       RETURNING last_seq AS seq`,
    )
    .get(userId) as { seq: number };
  return row.seq;
}

/** The user's last sequence number, 0 when the user has no events yet. */
export function currentSeq(sqlite: Database, userId: string): number {
  const row = sqlite
    .query('SELECT last_seq AS seq FROM user_seq WHERE user_id = ?')
    .get(userId) as {
    seq: number;
  } | null;
  return row?.seq ?? 0;
}

/** Takes the next seq and records an event under it; returns the seq. */
export function recordEvent(
  sqlite: Database,
  userId: string,
  type: string,
  payload: unknown,
  nowWallMs: number,
): number {
  const seq = nextSeq(sqlite, userId);
  sqlite
    .query('INSERT INTO history (user_id, seq, type, payload, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(userId, seq, type, JSON.stringify(payload ?? null), nowWallMs);
  return seq;
}

/**
 * Events after `sinceSeq`, all of them or `gone`: gone when `sinceSeq` is ahead of the current seq,
 * older than the retained history, or more than `maxEvents` behind (docs/design.md#epochs). Run
 * inside a read transaction so the bounds and the rows agree.
 */
export function readEventsSince(
  sqlite: Database,
  userId: string,
  sinceSeq: number,
  maxEvents: number,
): EventsSinceResult {
  const current = currentSeq(sqlite, userId);
  if (!Number.isSafeInteger(sinceSeq) || sinceSeq < 0 || sinceSeq > current)
    return { kind: 'gone' };
  if (sinceSeq === current) return { kind: 'ok', events: [] };
  if (current - sinceSeq > maxEvents) return { kind: 'gone' };
  const rows = sqlite
    .query(
      `SELECT seq, type, payload, created_at AS createdAtWallMs FROM history
       WHERE user_id = ? AND seq > ? ORDER BY seq`,
    )
    .all(userId, sinceSeq) as EventRow[];
  return replayOf(rows, sinceSeq, current);
}

/** Deletes events older than `ttlMs` and beyond the newest `maxEvents` per user; returns how many. */
export function deleteOldEvents(
  sqlite: Database,
  maxEvents: number,
  ttlMs: number,
  nowWallMs: number,
): number {
  const byAge = sqlite.query('DELETE FROM history WHERE created_at < ?').run(nowWallMs - ttlMs);
  const byCount = sqlite
    .query(
      `DELETE FROM history WHERE seq <=
         (SELECT u.last_seq FROM user_seq u WHERE u.user_id = history.user_id) - ?`,
    )
    .run(maxEvents);
  return byAge.changes + byCount.changes;
}
