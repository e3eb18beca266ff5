/**
 * @module The lifeline client: `connect({url, token, thread})` opens the WebSocket, holds the
 * user's state as the server pushes it, reconnects with jittered backoff following the close-code
 * rules, resumes with `since`/`epoch`, queues messages while offline, and refreshes the token in
 * place. Works in browsers and in Bun; no runtime dependencies. The wire types come from the
 * server's protocol models (`import type`, erased when bundled).
 *
 * @example
 * const client = connect({ url: 'wss://chat.example.com/ws', token: fetchToken, thread: 't1' });
 * client.subscribe(() => render(client.getState(), client.getStatus()));
 * await client.send({ thread_id: 't1', content: 'Hello' });
 */
import type {
  AuthOkFrame,
  ErrorFrame,
  MemoryResultFrame,
  MessageFrame,
  PushFrame,
  RehydrateFrame,
  ServerFrame,
  ThreadStateFrame,
} from '../src/realtime/protocol.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { ChangeBatch, defaultFrameScheduler } from './batch.ts';
import {
  Connection,
  type ConnectionHost,
  type ConnectionStatus,
  type Timers,
} from './connection.ts';
import { Emitter, type Unsubscribe } from './emitter.ts';
import { DEFAULT_QUEUE_LIMIT, OfflineQueue } from './queue.ts';
import type { ReplyDelta } from './replies.ts';
import {
  applyOwnMessage,
  applyOwnPersonalization,
  applyOwnPreferences,
  applyPush,
  applyRehydrate,
  applyReplyDelta,
  applyThreadState,
  initialState,
  type JsonObject,
  type LifelineState,
  withPending,
  withTokenExpiry,
} from './state.ts';
import type {
  ClientEvents,
  ConnectOptions,
  LifelineClient,
  SendInput,
  SendResult,
} from './types.ts';
import { LifelineRequestError, randomUuid, type WebSocketLike } from './wire.ts';

export type { MessageView, PushFrame, RehydrateFrame } from '../src/realtime/protocol.ts';
export { type BackoffOptions, DEFAULT_BACKOFF, seededRandom } from './backoff.ts';
export type { FrameScheduler } from './batch.ts';
export { type CloseAction, closeAction } from './close-codes.ts';
export type { ConnectionStatus, Timers } from './connection.ts';
export type { Unsubscribe } from './emitter.ts';
export { QueueFullError } from './queue.ts';
export type { EndedReply, ReplyInProgress } from './replies.ts';
export type { JsonObject, LifelineState, SessionState, ThreadState } from './state.ts';
export type {
  ClientEvents,
  ConnectOptions,
  LifelineClient,
  SendInput,
  SendResult,
} from './types.ts';
export { LifelineRequestError, type RequestErrorCode, type WebSocketLike } from './wire.ts';

type Reply = { frame: ServerFrame };
interface Waiter {
  resolve(reply: Reply): void;
  reject(error: LifelineRequestError): void;
  timer?: unknown;
  frame: { type: string; id?: string };
}

/** Opens a client; it connects at once and keeps connecting until {@link LifelineClient.close}. */
export function connect(options: ConnectOptions): LifelineClient {
  return new Client(options);
}

class Client implements LifelineClient, ConnectionHost {
  private state = initialState();
  private status: ConnectionStatus = { state: 'connecting', attempt: 0 };
  private readonly events = new Emitter<ClientEvents>();
  private readonly listeners = new Set<() => void>();
  private readonly queue: OfflineQueue;
  private readonly waiters = new Map<string, Waiter>();
  private readonly sends = new Map<string, Promise<SendResult>>();
  private readonly connection: Connection;
  private readonly timers: Timers;
  private readonly requestTimeoutMs: number;
  private requestCounter = 0;
  private readonly thread: string | undefined;
  private readonly batch: ChangeBatch;

  constructor(options: ConnectOptions) {
    this.thread = options.thread;
    this.batch = new ChangeBatch(options.scheduleFrame ?? defaultFrameScheduler(), () =>
      this.announce(),
    );
    this.queue = new OfflineQueue(options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.timers = options.timers ?? globalTimers();
    this.connection = new Connection(
      {
        url: options.url,
        token: options.token,
        backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
        openTimeoutMs: options.openTimeoutMs ?? 10_000,
        random: options.random ?? Math.random,
        timers: this.timers,
        socket: options.socket ?? defaultSocket,
      },
      this,
    );
    this.connection.start();
  }

  get queueSize(): number {
    return this.queue.size;
  }

  // Bound: React's useSyncExternalStore calls these detached from the client.
  readonly getState = (): LifelineState => this.state;

  readonly getStatus = (): ConnectionStatus => this.status;

  readonly subscribe = (listener: () => void): Unsubscribe => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void) {
    return this.events.on(type, listener);
  }

  send(input: SendInput): Promise<SendResult> {
    const frame: MessageFrame = {
      type: 'message',
      id: input.id ?? randomUuid(),
      thread_id: input.thread_id,
      role: input.role ?? 'user',
      content: input.content,
      ...(input.metadata === undefined ? {} : { metadata: { ...input.metadata } }),
    };
    const existing = this.sends.get(frame.id);
    if (existing) return existing;
    try {
      this.queue.add(frame);
    } catch (error) {
      return Promise.reject(new LifelineRequestError('queue_full', (error as Error).message));
    }
    const promise = this.wait(frame)
      .then(({ frame: reply }) => sendResult(frame.id, reply))
      .finally(() => this.sends.delete(frame.id));
    this.sends.set(frame.id, promise);
    this.queueChanged();
    if (this.status.state === 'open') this.transmit(frame);
    return promise;
  }

  setPreferences(preferences: JsonObject): Promise<{ seq: number }> {
    const copy = { ...preferences };
    return this.request({ type: 'preferences.set', preferences: copy }).then(({ frame }) => {
      this.setState(applyOwnPreferences(this.state, copy));
      return { seq: (frame as { seq: number }).seq };
    });
  }

  setPersonalization(threadId: string, state: JsonObject): Promise<{ seq: number }> {
    const copy = { ...state };
    const frame = { type: 'personalization.set', thread_id: threadId, state: copy };
    return this.request(frame).then(({ frame: reply }) => {
      this.setState(applyOwnPersonalization(this.state, threadId, copy));
      return { seq: (reply as { seq: number }).seq };
    });
  }

  joinThread(threadId: string): Promise<ThreadStateFrame> {
    return this.request({ type: 'thread.join', thread_id: threadId }).then(({ frame }) => {
      const answer = frame as ThreadStateFrame;
      this.setState(applyThreadState(this.state, answer));
      return answer;
    });
  }

  /** Loads the page of older messages below the thread's cursor; resolves true while more remain. */
  loadOlder(threadId: string): Promise<boolean> {
    const before = this.state.threads[threadId]?.before;
    if (before === undefined) return Promise.resolve(false);
    const frame = { type: 'thread.join', thread_id: threadId, before };
    return this.request(frame).then(({ frame: reply }) => {
      this.setState(applyThreadState(this.state, reply as ThreadStateFrame, true));
      return this.state.threads[threadId]?.before !== undefined;
    });
  }

  queryMemory(threadId: string, query: string, limit?: number): Promise<MemoryResultFrame> {
    const frame = { type: 'memory.query', thread_id: threadId, query, ...(limit ? { limit } : {}) };
    return this.request(frame).then(({ frame: reply }) => reply as MemoryResultFrame);
  }

  cancelReply(turnId: string): Promise<void> {
    return this.request({ type: 'reply.cancel', turn_id: turnId }).then(() => undefined);
  }

  async refreshToken(): Promise<void> {
    await this.connection.refreshToken();
  }

  discard(id: string): boolean {
    if (!this.queue.remove(id)) return false;
    this.settle(id, new LifelineRequestError('closed', 'the message was discarded'));
    this.queueChanged();
    return true;
  }

  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  close(): void {
    this.connection.stop('closed by the client');
  }

  // ---- ConnectionHost: called by the connection ---------------------------------------------

  /** @internal The resume point for the next socket. */
  resumePoint(): { epoch: string | null; since: number } {
    return { epoch: this.state.epoch, since: this.state.seq };
  }

  /**
   * @internal The connect thread, then every thread with a reply in progress: a reconnect brings
   * their text so far (docs/protocol.md §5.5), which is also how a gap is repaired.
   */
  snapshotThreads(): readonly string[] {
    const threads = this.thread === undefined ? [] : [this.thread];
    for (const [id, thread] of Object.entries(this.state.threads)) {
      if (id !== this.thread && (thread.replies?.length ?? 0) > 0) threads.push(id);
    }
    return threads.slice(0, MAX_SNAPSHOT_THREADS);
  }

  /** @internal */
  setStatus(status: ConnectionStatus): void {
    this.status = Object.freeze(status);
    this.events.emit('status', this.status);
    this.notify();
  }

  /** @internal A frame from the current socket. */
  handleFrame(frame: ServerFrame): void {
    if (frame.type === 'rehydrate') this.handleRehydrate(frame);
    else if (isPush(frame)) this.handlePush(frame);
    else if (frame.type === 'ack') this.handleAck(frame);
    else if (frame.type === 'error') this.handleError(frame);
    else if (frame.type === 'auth.ok') this.handleAuthOk(frame);
    else if (frame.type === 'reply.delta') this.handleDelta(frame);
    else this.settleReply(frame); // memory.result, thread.state, pong
  }

  /** @internal The socket closed: requests other than messages fail; messages stay queued. */
  handleDisconnect(): void {
    for (const [id, waiter] of this.waiters) {
      this.clearTimer(waiter);
      if (waiter.frame.type !== 'message') {
        this.settle(id, new LifelineRequestError('disconnected', 'the connection was lost'));
      }
    }
  }

  /** @internal The connection stopped for good: everything still waiting fails with `closed`. */
  handleStopped(reason: string): void {
    for (const id of [...this.waiters.keys()]) {
      this.queue.remove(id);
      this.settle(id, new LifelineRequestError('closed', `the client stopped: ${reason}`));
    }
    this.queueChanged();
  }

  /** @internal */
  reportTokenError(error: unknown): void {
    this.events.emit('tokenError', { error });
  }

  /** @internal Sends a frame on the open socket (auth.refresh) and waits for its reply. */
  requestOnSocket(frame: { type: string; [key: string]: unknown }): Promise<Reply> {
    return this.request(frame);
  }

  // ---- frames ---------------------------------------------------------------------------------

  private handleRehydrate(frame: RehydrateFrame): void {
    const resumed = frame.recovered && this.state.ready && this.state.epoch === frame.epoch;
    this.setState(applyRehydrate(this.state, frame));
    this.events.emit('rehydrate', { frame, resumed });
    // Resend every unacknowledged message, oldest first, with its own id
    // (docs/design.md#duplicate-ids).
    for (const queued of this.queue.list()) this.transmit(queued);
  }

  private handlePush(frame: PushFrame): void {
    const { state, outcome } = applyPush(this.state, frame);
    if (outcome === 'duplicate') return;
    this.setState(state);
    this.events.emit('push', { frame, replayed: outcome === 'replayed' });
  }

  /** Deltas change the state at once and notify in batches; a gap reconnects for a snapshot. */
  private handleDelta(frame: ReplyDelta): void {
    const { state, outcome } = applyReplyDelta(this.state, frame);
    if (state !== this.state) {
      this.state = state;
      this.batch.request();
    }
    if (outcome === 'gap') this.connection.resync();
  }

  private handleAck(frame: { id?: string; seq?: number; turn_id?: string }): void {
    if (frame.id === undefined) return;
    const waiter = this.waiters.get(frame.id);
    if (waiter?.frame.type === 'message' && frame.seq !== undefined) {
      const message = waiter.frame as MessageFrame;
      this.queue.remove(message.id);
      const createdAt = new Date(this.timers.now()).toISOString();
      this.setState(applyOwnMessage(this.state, message, frame.seq, createdAt, frame.turn_id));
      this.queueChanged();
    }
    this.settleReply(frame as ServerFrame);
  }

  private handleError(frame: ErrorFrame): void {
    const waiter = frame.id === undefined ? undefined : this.waiters.get(frame.id);
    if (!waiter || frame.id === undefined) {
      this.events.emit('error', frame);
      return;
    }
    if (this.queue.remove(frame.id)) this.queueChanged();
    this.settle(frame.id, new LifelineRequestError(frame.code, frame.message));
  }

  private handleAuthOk(frame: AuthOkFrame): void {
    this.setState(withTokenExpiry(this.state, frame.token_expires_at));
    this.settleReply(frame);
  }

  // ---- requests -------------------------------------------------------------------------------

  private request(frame: { type: string; [key: string]: unknown }): Promise<Reply> {
    if (this.status.state !== 'open') {
      return Promise.reject(new LifelineRequestError('offline', 'not connected'));
    }
    const withId = { ...frame, id: `r${++this.requestCounter}` };
    const promise = this.wait(withId);
    this.transmit(withId);
    return promise;
  }

  private wait(frame: { type: string; id?: string }): Promise<Reply> {
    let waiter!: Waiter;
    const promise = new Promise<Reply>((resolve, reject) => {
      waiter = { resolve, reject, frame };
    });
    this.waiters.set(frame.id as string, waiter);
    return promise;
  }

  /** Writes a frame and starts its reply timer; a failed write leaves it for the next socket. */
  private transmit(frame: { type: string; id?: string }): void {
    const waiter = frame.id === undefined ? undefined : this.waiters.get(frame.id);
    if (!this.connection.write(JSON.stringify(frame)) || !waiter) return;
    this.clearTimer(waiter);
    waiter.timer = this.timers.setTimeout(
      () => this.timeOut(frame.id as string),
      this.requestTimeoutMs,
    );
  }

  private timeOut(id: string): void {
    if (this.queue.remove(id)) this.queueChanged();
    this.settle(id, new LifelineRequestError('timeout', 'no reply from the server in time'));
  }

  private settleReply(frame: ServerFrame): void {
    const id = (frame as { id?: string }).id;
    const waiter = id === undefined ? undefined : this.waiters.get(id);
    if (!waiter || id === undefined) return;
    this.clearTimer(waiter);
    this.waiters.delete(id);
    waiter.resolve({ frame });
  }

  private settle(id: string, error: LifelineRequestError): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.clearTimer(waiter);
    this.waiters.delete(id);
    waiter.reject(error);
  }

  private clearTimer(waiter: Waiter): void {
    if (waiter.timer !== undefined) this.timers.clearTimeout(waiter.timer);
    waiter.timer = undefined;
  }

  // ---- notifications --------------------------------------------------------------------------

  private queueChanged(): void {
    this.setState(withPending(this.state, this.queue.list()));
    this.events.emit('queue', { size: this.queue.size, limit: this.queue.limit });
  }

  private setState(next: LifelineState): void {
    if (next === this.state) return;
    this.state = next;
    this.announce();
  }

  /** Tells listeners the state changed; a pending batch is covered by it. */
  private announce(): void {
    this.batch.cancel();
    this.events.emit('state', this.state);
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const PUSH_TYPES: ReadonlySet<string> = new Set([
  'preferences',
  'personalization',
  'message',
  'memory',
  'event',
  'reply.start',
  'reply.end',
  'assistant',
]);

/** The server honours at most this many `?thread=` values (docs/protocol.md §1). */
const MAX_SNAPSHOT_THREADS = 16;

function sendResult(id: string, reply: ServerFrame): SendResult {
  const { seq, turn_id } = reply as { seq: number; turn_id?: string };
  return turn_id === undefined ? { id, seq } : { id, seq, turnId: turn_id };
}

function isPush(frame: ServerFrame): frame is PushFrame {
  return PUSH_TYPES.has(frame.type);
}

function defaultSocket(url: string, protocols: string[]): WebSocketLike {
  // The DOM typings' handlers take concrete Event types; the client only reads `data`, `code`, `reason`.
  return new WebSocket(url, protocols) as unknown as WebSocketLike;
}

function globalTimers(): Timers {
  return {
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
    now: () => Date.now(),
  };
}
