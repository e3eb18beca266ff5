/**
 * @module The memory service as the realtime and HTTP layers need it (a consumer-owned port,
 * docs/design.md#ports): guarded message commits, searches through the breaker, and the status with its changes.
 * The daemon adapts the memory layer's service to it; tests implement it over a Store.
 */
import type { NewMessage, StoredMessage } from '../storage/store.ts';
import type { TurnLink } from '../storage/turns.ts';
import type { MemoryStatus } from './protocol.ts';

/** A message to guard and commit to the log/outbox (delivered to the memory service later). */
export type MemorySubmission = Omit<NewMessage, 'deliveredAtCommit'>;

/**
 * Outcome of {@link MemoryPort.submit}; only `ok` means committed. A new message comes back as
 * storage wrote it, which is what gets pushed. A storage failure is not an outcome: `submit`
 * rejects with LifelineError `unavailable`, like every other store call
 * (docs/design.md#storage-failure).
 */
export type MemorySubmitResult =
  | ({ kind: 'ok'; seq: number; duplicate: false; message: StoredMessage } & TurnLink)
  | ({ kind: 'ok'; seq: number; duplicate: true } & TurnLink)
  | { kind: 'rejected'; code: 'empty_message' | 'bad_request' | 'too_large'; message: string }
  | { kind: 'forbidden_thread' }
  /** The message id exists for another user or thread. */
  | { kind: 'conflict' };

/** A search request; the caller has already checked that `userId` owns `threadId`. */
export interface MemorySearchQuery {
  userId: string;
  threadId: string;
  query: string;
  limit: number;
}

/** One search hit, structurally what the memory layer answers (every field but content optional). */
export interface MemorySearchHit {
  content: string;
  role?: string | null;
  score?: number | null;
  /** The lifeline message UUID when the hit is a stored message. */
  uuid?: string | null;
  /** RFC 3339 time, when the backend gives one. */
  createdAt?: string | null;
}

/** The port the realtime and HTTP layers use. */
export interface MemoryPort {
  /**
   * Guards, then commits; resolves after the commit, never waiting on the memory service. Called
   * only by the message pipeline (message-pipeline.ts).
   */
  submit(message: MemorySubmission): Promise<MemorySubmitResult>;
  /** Searches through the breaker: `[]` with `degraded: true` at once while the circuit is open. */
  search(query: MemorySearchQuery): Promise<{ results: MemorySearchHit[]; degraded: boolean }>;
  /**
   * The backend's prompt-ready user context for a thread (Zep v3), through the breaker: `null`
   * when the backend has none, with `degraded: true` while the circuit is open or the call failed.
   */
  context?(
    userId: string,
    threadId: string,
  ): Promise<{ context: string | null; degraded: boolean }>;
  /** The status now, for `rehydrate`. */
  status(): MemoryStatus;
  /** Called on every status change; returns the unsubscribe function. */
  onStatusChange(listener: (status: MemoryStatus) => void): () => void;
}
