/**
 * @module The stored format of the history events storage writes itself, shared by both engines:
 * each payload is built from the row written in the same transaction, so a replayed event, a live
 * push and a rehydrate show the same values (docs/design.md#websocket, #epochs). Realtime turns a
 * payload back into a frame (realtime/push.ts toPushFrame); `memory` and `event` payloads are
 * given by their callers.
 *
 * `preferences` {preferences} · `personalization` {thread_id, personalization} ·
 * `message` {message: {id, thread_id, role, content, created_at, metadata?}}.
 */
import type { StoredMessage } from './store.ts';

/** The stored payload of a `message` event: the message as clients see it, without its seq. */
export interface MessageEventPayload {
  message: {
    id: string;
    thread_id: string;
    role: string;
    content: string;
    /** RFC 3339 UTC text of the row's `created_at`. */
    created_at: string;
    /** Present when the row has metadata. */
    metadata?: unknown;
  };
}

/** The payload of the `message` event of a row about to be written (its seq is not needed). */
export function messageEventPayload(
  row: Omit<StoredMessage, 'seq' | 'userId'>,
): MessageEventPayload {
  const message: MessageEventPayload['message'] = {
    id: row.id,
    thread_id: row.threadId,
    role: row.role,
    content: row.content,
    created_at: new Date(row.createdAtWallMs).toISOString(),
  };
  if (row.metadata !== null) message.metadata = row.metadata;
  return { message };
}

/** The payload of a `preferences` event. */
export function preferencesEventPayload(preferences: unknown): { preferences: unknown } {
  return { preferences };
}

/** The payload of a `personalization` event. */
export function personalizationEventPayload(
  threadId: string,
  state: unknown,
): { thread_id: string; personalization: unknown } {
  return { thread_id: threadId, personalization: state };
}
