/**
 * @module The client's public types: the options of `connect`, the client interface, and the
 * payloads of its events.
 */
import type {
  ErrorFrame,
  MemoryResultFrame,
  MessageRole,
  PushFrame,
  RehydrateFrame,
  ThreadStateFrame,
} from '../src/realtime/protocol.ts';
import type { BackoffOptions, RandomSource } from './backoff.ts';
import type { FrameScheduler } from './batch.ts';
import type { ConnectionStatus, Timers } from './connection.ts';
import type { Unsubscribe } from './emitter.ts';
import type { JsonObject, LifelineState } from './state.ts';
import type { SocketFactory } from './wire.ts';

/** Options of `connect`. */
export interface ConnectOptions {
  /** The socket URL, e.g. `wss://host/ws` (`http(s)` and relative URLs are accepted in browsers). */
  url: string;
  /** Returns a token for the user; called on connect, after a 4001 close, and on `auth.expiring`. */
  token: () => Promise<string>;
  /** The thread on screen: its recent messages come with every snapshot. */
  thread?: string;
  backoff?: Partial<BackoffOptions>;
  /** Unacknowledged messages kept at most (default 100); `send()` beyond it rejects `queue_full`. */
  queueLimit?: number;
  /** How long a request sent on an open socket waits for its reply (default 10,000 ms). */
  requestTimeoutMs?: number;
  /** How long an open socket may take to deliver `rehydrate` before it is dropped (default 10,000 ms). */
  openTimeoutMs?: number;
  /** Jitter source (default `Math.random`); seed it in tests. */
  random?: RandomSource;
  /** Timers and wall clock (default the global ones). */
  timers?: Timers;
  /** Socket constructor (default `new WebSocket(url, protocols)`). */
  socket?: SocketFactory;
  /**
   * When state changes from streamed reply text are announced: at most once per call (default
   * `requestAnimationFrame`, or the end of the current task where there is none).
   */
  scheduleFrame?: FrameScheduler;
}

/** What `send()` resolves with once the message is committed. */
export interface SendResult {
  id: string;
  seq: number;
  /** The assistant turn committed with a `user` message, when an assistant is configured. */
  turnId?: string;
}

/** A chat message to send. */
export interface SendInput {
  thread_id: string;
  content: string;
  role?: MessageRole;
  metadata?: JsonObject;
  /** The message UUID; give the same one to resend safely (default: a new random UUID). */
  id?: string;
}

/** The payloads of {@link LifelineClient.on}. */
export interface ClientEvents {
  /** The connection status changed. */
  status: ConnectionStatus;
  /** The state changed (snapshot, push, own write, queue). */
  state: LifelineState;
  /** A snapshot arrived; `resumed` when it continued the previous stream (`recovered: true`). */
  rehydrate: { frame: RehydrateFrame; resumed: boolean };
  /** A pushed event arrived that was not a duplicate; `replayed` when it came from the history. */
  push: { frame: PushFrame; replayed: boolean };
  /** An `error` frame that answered no request of this client. */
  error: ErrorFrame;
  /** The offline queue's size changed. */
  queue: { size: number; limit: number };
  /** Getting or installing a fresh token failed; the connection carries on until the server closes it. */
  tokenError: { error: unknown };
}

/** The client returned by `connect`. */
export interface LifelineClient {
  /** The current state; the same object until something changes (immutable). Bound, like `getStatus` and `subscribe`. */
  getState(): LifelineState;
  /** The current connection status (immutable). */
  getStatus(): ConnectionStatus;
  /** Calls `listener` after any change of state or status (the `useSyncExternalStore` shape). */
  subscribe(listener: () => void): Unsubscribe;
  /** Adds a listener for one event type. */
  on<K extends keyof ClientEvents>(
    type: K,
    listener: (payload: ClientEvents[K]) => void,
  ): Unsubscribe;
  /**
   * Sends a chat message; resolves with its `seq` (and the assistant `turnId`) once committed.
   * Queued while offline.
   */
  send(input: SendInput): Promise<SendResult>;
  /**
   * Stops an assistant reply (`reply.cancel`), queued or streaming; resolves once the server
   * accepted it. Its `reply.end` (status `cancelled`) follows. Needs an open socket.
   */
  cancelReply(turnId: string): Promise<void>;
  /** Replaces the user's preferences; resolves with the event's `seq`. Needs an open socket. */
  setPreferences(preferences: JsonObject): Promise<{ seq: number }>;
  /** Replaces a thread's personalization; resolves with the event's `seq`. Needs an open socket. */
  setPersonalization(threadId: string, state: JsonObject): Promise<{ seq: number }>;
  /** Loads a thread into the state (`thread.join`). Needs an open socket. */
  joinThread(threadId: string): Promise<ThreadStateFrame>;
  /** Loads the page of older messages below the thread's `before`; true while more remain. */
  loadOlder(threadId: string): Promise<boolean>;
  /** Searches the thread's long-term memory; `degraded: true` with no results while it is out. */
  queryMemory(threadId: string, query: string, limit?: number): Promise<MemoryResultFrame>;
  /** Asks `token()` for a fresh token and installs it on the open socket (`auth.refresh`). */
  refreshToken(): Promise<void>;
  /** Drops a queued message; its `send()` rejects with `closed`. False if it was not queued. */
  discard(id: string): boolean;
  /** Unacknowledged messages held now. */
  readonly queueSize: number;
  /** Skips the wait of a scheduled reconnect (e.g. on the browser's `online` event). */
  reconnectNow(): void;
  /** Closes for good; pending requests reject with `closed`. */
  close(): void;
}
