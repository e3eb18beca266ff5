/**
 * @module PostgreSQL: user preferences, per-thread personalization and the rehydrate snapshot. Each
 * change records its history event in the same transaction (docs/design.md#websocket,
 * #snapshot-before-stream); the snapshot is read in one REPEATABLE READ transaction, so its `seq`
 * is exactly the last event it covers.
 */
import type { SQL } from 'bun';
import { personalizationEventPayload, preferencesEventPayload } from '../events.ts';
import type { Snapshot, SnapshotOptions, ThreadSnapshot } from '../store.ts';
import { currentSeq, recordEvent } from './history.ts';
import { claimThread, selectRecentMessages } from './messages.ts';

/** Replaces a user's preferences and records a `preferences` event; returns its seq. */
export async function writePreferences(
  q: SQL,
  userId: string,
  preferences: unknown,
  nowWallMs: number,
): Promise<number> {
  const json = JSON.stringify(preferences ?? null);
  await q`INSERT INTO user_preferences (user_id, json, updated_at) VALUES (${userId}, ${json}, ${nowWallMs})
    ON CONFLICT (user_id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  return recordEvent(q, userId, 'preferences', preferencesEventPayload(preferences), nowWallMs);
}

/** Replaces a thread's personalization (claiming the thread on first write) and records the event. */
export async function writePersonalization(
  q: SQL,
  userId: string,
  threadId: string,
  state: unknown,
  nowWallMs: number,
): Promise<{ kind: 'ok'; seq: number } | { kind: 'forbidden_thread' }> {
  const json = JSON.stringify(state ?? null);
  if (!(await claimThread(q, userId, threadId, nowWallMs))) return { kind: 'forbidden_thread' };
  await q`INSERT INTO thread_personalization (thread_id, json, updated_at)
    VALUES (${threadId}, ${json}, ${nowWallMs})
    ON CONFLICT (thread_id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  const payload = personalizationEventPayload(threadId, state);
  const seq = await recordEvent(q, userId, 'personalization', payload, nowWallMs);
  return { kind: 'ok', seq };
}

async function readJson(rows: Promise<unknown[]>): Promise<unknown> {
  const [row] = (await rows) as Array<{ json: string }>;
  return row === undefined ? null : (JSON.parse(row.json) as unknown);
}

/** Reads seq, preferences and each owned thread's personalization and recent messages. */
export async function readSnapshotRows(
  q: SQL,
  userId: string,
  threadIds: string[],
  recentMessages: number,
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const seq = await currentSeq(q, userId);
  const preferences = await readJson(
    q`SELECT json FROM user_preferences WHERE user_id = ${userId}`,
  );
  const threads: Record<string, ThreadSnapshot> = {};
  const wanted = [...new Set(threadIds)];
  const owned = (await q`SELECT id FROM threads
    WHERE user_id = ${userId} AND id = ANY(${q.array(wanted, 'TEXT')})`) as Array<{ id: string }>;
  const ownedIds = new Set(owned.map((r) => r.id));
  for (const threadId of wanted) {
    if (!ownedIds.has(threadId)) continue;
    threads[threadId] = {
      personalization: await readJson(
        q`SELECT json FROM thread_personalization WHERE thread_id = ${threadId}`,
      ),
      messages: await selectRecentMessages(q, threadId, recentMessages, options.beforeSeq),
    };
  }
  return { seq, preferences, threads };
}
