/**
 * @module PostgreSQL: per-user sequence numbers and the replay history (docs/design.md#websocket,
 * #epochs). The seq is taken by an upsert on the user's counter row in the same transaction as the
 * history row: the row lock serialises the user's writers across instances until COMMIT, and a
 * rolled-back transaction rolls its increment back too, so two instances never hand out the same
 * seq and never leave a gap.
 */
import type { SQL } from 'bun';
import { type EventRow, replayOf } from '../rows.ts';
import type { EventsSinceResult } from '../store.ts';

/** The user's last sequence number, 0 when the user has no events yet. */
export async function currentSeq(q: SQL, userId: string): Promise<number> {
  const [row] = await q`SELECT last_seq::float8 AS seq FROM user_seq WHERE user_id = ${userId}`;
  return (row as { seq: number } | undefined)?.seq ?? 0;
}

/**
 * Takes the next seq and records an event under it in one statement (a single round trip, atomic
 * even outside a transaction); returns the seq.
 */
export async function recordEvent(
  q: SQL,
  userId: string,
  type: string,
  payload: unknown,
  nowWallMs: number,
): Promise<number> {
  // Serialise first: a payload that cannot be serialised fails before anything is written.
  const json = JSON.stringify(payload ?? null);
  const [row] = await q`WITH s AS (
      INSERT INTO user_seq AS u (user_id, last_seq) VALUES (${userId}, 1)
      ON CONFLICT (user_id) DO UPDATE SET last_seq = u.last_seq + 1 RETURNING u.last_seq)
    INSERT INTO history (user_id, seq, type, payload, created_at)
    SELECT ${userId}, s.last_seq, ${type}, ${json}, ${nowWallMs} FROM s
    RETURNING seq::float8 AS seq`;
  return (row as { seq: number }).seq;
}

/** An event serialised for {@link recordEvents}. */
export interface EventParams {
  userId: string;
  type: string;
  payload: string;
  nowWallMs: number;
}

/** Serialises an event first: a payload that cannot be serialised throws before the database. */
export function eventParams(
  userId: string,
  type: string,
  payload: unknown,
  nowWallMs: number,
): EventParams {
  return { userId, type, payload: JSON.stringify(payload ?? null), nowWallMs };
}

/**
 * Several events in ONE autocommitted statement (group commit): `lifeline_append_event`
 * (migrations-pg/0006) per row, in array order; the seqs in `events`' order.
 */
export async function recordEvents(q: SQL, events: EventParams[]): Promise<number[]> {
  const json = JSON.stringify(
    events.map((e, i) => ({ i, u: e.userId, t: e.type, p: e.payload, n: e.nowWallMs })),
  );
  const rows = (await q.unsafe(
    `SELECT x.i, lifeline_append_event(x.u, x.t, x.p, x.n)::float8 AS seq
     FROM json_to_recordset($1::text::json) AS x(i int, u text, t text, p text, n bigint)`,
    [json],
  )) as Array<{ i: number; seq: number }>;
  if (rows.length !== events.length) {
    throw new Error(`batch append returned ${rows.length} seqs for ${events.length} events`);
  }
  const seqs = new Array<number>(events.length);
  for (const row of rows) seqs[row.i] = row.seq;
  return seqs;
}

/**
 * Events after `sinceSeq`, all of them or `gone` (same rules as the SQLite adapter). Run inside a
 * REPEATABLE READ transaction so the bounds and the rows come from one snapshot.
 */
export async function readEventsSince(
  q: SQL,
  userId: string,
  sinceSeq: number,
  maxEvents: number,
): Promise<EventsSinceResult> {
  if (!Number.isSafeInteger(sinceSeq) || sinceSeq < 0) return { kind: 'gone' };
  const current = await currentSeq(q, userId);
  if (sinceSeq > current) return { kind: 'gone' };
  if (sinceSeq === current) return { kind: 'ok', events: [] };
  if (current - sinceSeq > maxEvents) return { kind: 'gone' };
  const rows = (await q`SELECT seq::float8 AS seq, type, payload,
      created_at::float8 AS "createdAtWallMs"
    FROM history WHERE user_id = ${userId} AND seq > ${sinceSeq} AND seq <= ${current}
    ORDER BY seq`) as EventRow[];
  // Rows above `current` (committed by another writer since it was read) are left for next time.
  return replayOf(rows, sinceSeq, current);
}

/** Deletes events older than `ttlMs` and beyond the newest `maxEvents` per user; returns how many. */
export async function deleteOldEvents(
  q: SQL,
  maxEvents: number,
  ttlMs: number,
  nowWallMs: number,
): Promise<number> {
  const byAge = await q`DELETE FROM history WHERE created_at < ${nowWallMs - ttlMs}`;
  const byCount = await q`DELETE FROM history h USING user_seq u
    WHERE u.user_id = h.user_id AND h.seq <= u.last_seq - ${maxEvents}`;
  return byAge.count + byCount.count;
}
