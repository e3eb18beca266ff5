/**
 * @module SQLite: user preferences, per-thread personalization and the rehydrate snapshot. Each
 * change records its history event in the same transaction, so a pushed `seq` always names a
 * committed state (docs/design.md#websocket, #snapshot-before-stream).
 */
import type { Database } from 'bun:sqlite';
import { personalizationEventPayload, preferencesEventPayload } from '../events.ts';
import type { Snapshot, SnapshotOptions, ThreadSnapshot } from '../store.ts';
import { currentSeq, recordEvent } from './history.ts';
import { claimThread, selectRecentMessages } from './messages.ts';

/** Replaces a user's preferences and records a `preferences` event; returns its seq. */
export function writePreferences(
  sqlite: Database,
  userId: string,
  preferences: unknown,
  nowWallMs: number,
): number {
  sqlite
    .query(
      `INSERT INTO user_preferences (user_id, json, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`,
    )
    .run(userId, JSON.stringify(preferences ?? null), nowWallMs);
  return recordEvent(
    sqlite,
    userId,
    'preferences',
    preferencesEventPayload(preferences),
    nowWallMs,
  );
}

/** Replaces a thread's personalization (claiming the thread on first write) and records the event. */
export function writePersonalization(
  sqlite: Database,
  userId: string,
  threadId: string,
  state: unknown,
  nowWallMs: number,
): { kind: 'ok'; seq: number } | { kind: 'forbidden_thread' } {
  if (!claimThread(sqlite, userId, threadId, nowWallMs)) return { kind: 'forbidden_thread' };
  sqlite
    .query(
      `INSERT INTO thread_personalization (thread_id, json, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (thread_id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`,
    )
    .run(threadId, JSON.stringify(state ?? null), nowWallMs);
  const payload = personalizationEventPayload(threadId, state);
  const seq = recordEvent(sqlite, userId, 'personalization', payload, nowWallMs);
  return { kind: 'ok', seq };
}

function readJson(sqlite: Database, sql: string, key: string): unknown {
  const row = sqlite.query(sql).get(key) as { json: string } | null;
  return row === null ? null : (JSON.parse(row.json) as unknown);
}

/**
 * Reads seq, preferences and each owned thread's personalization and recent messages. The caller
 * wraps it in one read transaction so `seq` is exactly the last event the snapshot covers.
 */
export function readSnapshotRows(
  sqlite: Database,
  userId: string,
  threadIds: string[],
  recentMessages: number,
  options: SnapshotOptions = {},
): Snapshot {
  const seq = currentSeq(sqlite, userId);
  const preferences = readJson(
    sqlite,
    'SELECT json FROM user_preferences WHERE user_id = ?',
    userId,
  );
  const threads: Record<string, ThreadSnapshot> = {};
  const owner = sqlite.query('SELECT user_id AS userId FROM threads WHERE id = ?');
  for (const threadId of new Set(threadIds)) {
    const row = owner.get(threadId) as { userId: string } | null;
    if (row?.userId !== userId) continue;
    threads[threadId] = {
      personalization: readJson(
        sqlite,
        'SELECT json FROM thread_personalization WHERE thread_id = ?',
        threadId,
      ),
      messages: selectRecentMessages(sqlite, threadId, recentMessages, options.beforeSeq),
    };
  }
  return { seq, preferences, threads };
}
