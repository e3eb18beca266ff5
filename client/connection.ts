/**
 * @module One client's socket lifecycle: open with the token and the resume point, wait for the
 * `rehydrate`, apply the close-code rule when the socket closes, schedule the next attempt with
 * jittered backoff, and refresh the token on `auth.expiring` for the socket that asked only.
 * Every socket gets a generation number; anything that arrives for an older one is ignored, so a
 * late close, frame or token never acts on the connection that replaced it.
 */
import type { ServerFrame } from '../src/realtime/protocol.ts';
import { type BackoffOptions, backoffDelayMs, type RandomSource } from './backoff.ts';
import { closeAction } from './close-codes.ts';
import {
  LifelineRequestError,
  type SocketFactory,
  socketProtocols,
  socketUrl,
  tokenExpiryMs,
  type WebSocketLike,
} from './wire.ts';

/** Connection status, for a banner. */
export type ConnectionStatus =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'open'; readonly connectionId: string }
  | {
      readonly state: 'reconnecting';
      readonly attempt: number;
      readonly delayMs: number;
      /** Wall-clock time (ms since 1970) of the next attempt. */
      readonly nextAttemptAt: number;
      readonly lastClose: { readonly code: number; readonly reason: string };
    }
  | { readonly state: 'closed'; readonly reason: string; readonly code?: number };

/** Timers and the wall clock, injectable so tests control time. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Wall-clock ms since 1970 (for `nextAttemptAt` and token expiry). */
  now(): number;
}

/** What the connection needs from the client that owns it. */
export interface ConnectionHost {
  resumePoint(): { epoch: string | null; since: number };
  /** The threads the next snapshot should carry (`?thread=`). */
  snapshotThreads(): readonly string[];
  setStatus(status: ConnectionStatus): void;
  handleFrame(frame: ServerFrame): void;
  handleDisconnect(): void;
  handleStopped(reason: string): void;
  requestOnSocket(frame: { type: string; [key: string]: unknown }): Promise<unknown>;
  reportTokenError(error: unknown): void;
}

/** Settings of a {@link Connection}, defaults already applied. */
export interface ConnectionConfig {
  url: string;
  token: () => Promise<string>;
  backoff: BackoffOptions;
  openTimeoutMs: number;
  random: RandomSource;
  timers: Timers;
  socket: SocketFactory;
}

/** A token this close to its `exp` is replaced before a reconnect instead of being refused with 4001. */
const TOKEN_MARGIN_MS = 10_000;

/** Opens sockets one after another until stopped. */
export class Connection {
  private generation = 0;
  private socket: WebSocketLike | undefined;
  private open = false;
  private stopped = false;
  /** Consecutive attempts that ended before a snapshot: the backoff exponent. */
  private failures = 0;
  private token: string | undefined;
  private needFreshToken = false;
  /** The token in use was fetched because of a 4001; a second 4001 before a snapshot stops. */
  private freshAfterRejection = false;
  private hintMs: number | undefined;
  private retryTimer: unknown;
  private openTimer: unknown;
  private refreshing: { generation: number; done: Promise<void> } | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly host: ConnectionHost,
  ) {}

  /** Opens the first socket. */
  start(): void {
    void this.attempt();
  }

  /** Writes to the open socket; false when there is none (the caller keeps the frame). */
  write(data: string): boolean {
    if (!this.open || !this.socket) return false;
    try {
      this.socket.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Cancels a scheduled reconnect's wait and tries now. */
  reconnectNow(): void {
    if (this.stopped || this.retryTimer === undefined) return;
    this.config.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.attempt();
  }

  /**
   * Replaces the open socket with a new one at once, resuming from the same point: the way to get
   * a fresh snapshot of the open replies (`thread.state` does not carry them). Ignored while no
   * socket is open (the next one brings a snapshot anyway).
   */
  resync(): void {
    if (this.stopped || !this.open) return;
    this.generation++;
    this.detach(1000, 'resync');
    this.host.handleDisconnect();
    this.retry(0, { code: 1000, reason: 'resync' });
  }

  /** Closes for good with `reason`. */
  stop(reason: string, code?: number): void {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    this.clearTimers();
    this.detach(1000, 'client closed');
    this.host.handleDisconnect();
    this.host.setStatus(
      code === undefined ? { state: 'closed', reason } : { state: 'closed', reason, code },
    );
    this.host.handleStopped(reason);
  }

  /**
   * Asks `token()` for a fresh token and sends `auth.refresh` on the socket that is open now. If
   * that socket is replaced before the token arrives, the token is dropped: a refresh never
   * outlives its connection. Concurrent calls for one socket share one refresh.
   */
  refreshToken(): Promise<void> {
    if (!this.open) return Promise.reject(new LifelineRequestError('offline', 'not connected'));
    const generation = this.generation;
    if (this.refreshing?.generation === generation) return this.refreshing.done;
    const done = (async () => {
      const token = await this.config.token();
      if (generation !== this.generation || !this.open) return;
      await this.host.requestOnSocket({ type: 'auth.refresh', token });
      if (generation === this.generation) this.token = token;
    })().finally(() => {
      if (this.refreshing?.generation === generation) this.refreshing = undefined;
    });
    this.refreshing = { generation, done };
    return done;
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    const generation = ++this.generation;
    this.host.setStatus({ state: 'connecting', attempt: this.failures });
    let token: string;
    try {
      token = await this.currentToken();
    } catch (error) {
      if (generation !== this.generation || this.stopped) return;
      this.host.reportTokenError(error);
      this.retry(backoffDelayMs(this.failures++, this.config.backoff, this.config.random), {
        code: 0,
        reason: 'token() failed',
      });
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    this.openSocket(generation, token);
  }

  private openSocket(generation: number, token: string): void {
    const { epoch, since } = this.host.resumePoint();
    const threads = this.host.snapshotThreads();
    const url = socketUrl(this.config.url, { threads, epoch, since });
    let socket: WebSocketLike;
    try {
      socket = this.config.socket(url, socketProtocols(token));
    } catch {
      this.onClose(generation, 1006, 'the socket could not be created');
      return;
    }
    this.socket = socket;
    this.hintMs = undefined;
    socket.onmessage = (event) => this.onMessage(generation, event.data);
    socket.onclose = (event) => this.onClose(generation, event.code, event.reason);
    socket.onerror = () => {}; // a close event always follows
    this.openTimer = this.config.timers.setTimeout(() => {
      if (generation !== this.generation || this.open) return;
      this.detach(1000, 'no snapshot');
      this.onClose(generation, 1006, 'no rehydrate within the open timeout');
    }, this.config.openTimeoutMs);
  }

  private onMessage(generation: number, data: unknown): void {
    if (generation !== this.generation || typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return; // The server only sends JSON; anything else is not ours to interpret.
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (frame.type === 'rehydrate') this.onRehydrate(frame.session.connection_id);
    else if (!this.open) return; // Nothing is valid before the snapshot (docs/protocol.md §2).
    if (frame.type === 'auth.expiring') {
      this.refreshToken().catch((error: unknown) => this.host.reportTokenError(error));
    } else if (frame.type === 'reconnect') {
      this.hintMs = frame.after_ms;
    } else {
      this.host.handleFrame(frame);
    }
  }

  private onRehydrate(connectionId: string): void {
    this.config.timers.clearTimeout(this.openTimer);
    this.open = true;
    this.failures = 0;
    this.freshAfterRejection = false;
    this.host.setStatus({ state: 'open', connectionId });
  }

  private onClose(generation: number, code: number, reason: string): void {
    if (generation !== this.generation || this.stopped) return;
    this.open = false;
    this.socket = undefined;
    this.config.timers.clearTimeout(this.openTimer);
    this.host.handleDisconnect();
    const close = { code, reason };
    const action = closeAction(code, reason);
    const { backoff, random } = this.config;
    if (action.kind === 'stop') {
      this.stop(action.reason, code);
    } else if (action.kind === 'refresh_token') {
      this.afterTokenRefused(close);
    } else if (action.kind === 'slow_down') {
      this.retry(backoffDelayMs(this.failures++, backoff, random, backoff.slowDownMs), close);
    } else if (action.kind === 'after_hint' && this.hintMs !== undefined) {
      this.retry(this.hintMs, close);
    } else {
      this.retry(backoffDelayMs(this.failures++, backoff, random), close);
    }
  }

  /** 4001: one fresh token, then reconnect at once; refused again before a snapshot → stop. */
  private afterTokenRefused(close: { code: number; reason: string }): void {
    if (this.freshAfterRejection) {
      const why = close.reason || 'token_invalid';
      this.stop(`the server refused a freshly fetched token (${why})`, close.code);
      return;
    }
    this.needFreshToken = true;
    this.freshAfterRejection = true;
    this.retry(0, close);
  }

  private retry(delayMs: number, lastClose: { code: number; reason: string }): void {
    const { timers } = this.config;
    this.host.setStatus({
      state: 'reconnecting',
      attempt: this.failures,
      delayMs,
      nextAttemptAt: timers.now() + delayMs,
      lastClose,
    });
    this.retryTimer = timers.setTimeout(() => void this.attempt(), delayMs);
  }

  private async currentToken(): Promise<string> {
    const expiresAt = this.token === undefined ? undefined : tokenExpiryMs(this.token);
    const stale = expiresAt !== undefined && expiresAt - this.config.timers.now() < TOKEN_MARGIN_MS;
    if (this.token !== undefined && !this.needFreshToken && !stale) return this.token;
    const token = await this.config.token();
    this.token = token;
    this.needFreshToken = false;
    return token;
  }

  private detach(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = undefined;
    this.open = false;
    if (!socket) return;
    socket.onmessage = null;
    socket.onclose = null;
    try {
      socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  private clearTimers(): void {
    this.config.timers.clearTimeout(this.retryTimer);
    this.config.timers.clearTimeout(this.openTimer);
    this.retryTimer = undefined;
  }
}
