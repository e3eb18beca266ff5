/**
 * @module The assistant as the realtime layer needs it (a consumer-owned port, like memory-port.ts):
 * the turn queue the message pipeline feeds, the status and the open replies a `rehydrate` shows.
 * src/assistant implements it; the daemon wires it (docs/protocol.md "Assistant replies").
 */
import type { TurnQueuePort } from './message-pipeline.ts';
import type { AssistantStatus, ReplyView } from './reply-protocol.ts';

/** The assistant port. */
export interface AssistantPort extends TurnQueuePort {
  /** `rehydrate.assistant.status`. */
  status(): AssistantStatus;
  /**
   * The open replies of these threads of the user, by thread, each with the text streamed so far.
   * Synchronous, read right before the `rehydrate` is sent, so no delta falls between the text it
   * shows and the deltas the socket gets after it (the hub drops buffered ones it covers).
   */
  replies(userId: string, threadIds: readonly string[]): Record<string, ReplyView[]>;
  /**
   * Cancels a turn of `userId`: `forbidden` for another user's turn, `unknown` for none, `done`
   * when it had already ended (idempotent), else `cancelled` (its `reply.end` follows).
   */
  cancel(userId: string, turnId: string): Promise<'cancelled' | 'done' | 'forbidden' | 'unknown'>;
  /** Called on each change of {@link status}; returns the unsubscribe function. */
  onStatusChange(listener: (status: AssistantStatus) => void): () => void;
}
