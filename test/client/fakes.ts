/**
 * @module Fakes for the client's unit tests: timers that run only when the test advances them, and
 * an in-memory socket the test plays the server on.
 */
import type { Timers, WebSocketLike } from '../../client/index.ts';

interface Scheduled {
  id: number;
  atMs: number;
  callback: () => void;
}

/** Timers on a fake clock: nothing runs until {@link FakeTimers.advance}. */
export class FakeTimers implements Timers {
  private nowMs = Date.UTC(2026, 10, 24, 12, 0, 0);
  private nextId = 1;
  private readonly due: Scheduled[] = [];

  setTimeout(callback: () => void, delayMs: number): unknown {
    const entry = { id: this.nextId++, atMs: this.nowMs + Math.max(0, delayMs), callback };
    this.due.push(entry);
    return entry.id;
  }

  clearTimeout(handle: unknown): void {
    const index = this.due.findIndex((entry) => entry.id === handle);
    if (index >= 0) this.due.splice(index, 1);
  }

  now(): number {
    return this.nowMs;
  }

  /** Delays of the timers waiting now, from the current time. */
  pendingDelays(): number[] {
    return this.due.map((entry) => entry.atMs - this.nowMs);
  }

  /** Moves time forward, running every timer that falls due (and letting promises settle between). */
  async advance(ms: number): Promise<void> {
    const target = this.nowMs + ms;
    for (;;) {
      await flush();
      const next = this.due
        .filter((entry) => entry.atMs <= target)
        .sort((a, b) => a.atMs - b.atMs)[0];
      if (!next) break;
      this.clearTimeout(next.id);
      this.nowMs = next.atMs;
      next.callback();
    }
    this.nowMs = target;
    await flush();
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** One socket the client opened; the test answers as the server. */
export class FakeSocket implements WebSocketLike {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: Array<Record<string, unknown>> = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(
    readonly url: URL,
    readonly protocols: string[],
  ) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  /** Delivers a server frame. */
  push(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server closes the socket. */
  serverClose(code: number, reason = ''): void {
    this.onclose?.({ code, reason });
  }

  /** Frames of one type the client sent. */
  sentOf(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((frame) => frame.type === type);
  }
}

/** Records every socket the client opens. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];
  readonly factory = (url: string, protocols: string[]): WebSocketLike => {
    const socket = new FakeSocket(new URL(url), protocols);
    this.sockets.push(socket);
    return socket;
  };

  /** The most recent socket. */
  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}

/** A `rehydrate` frame with sensible defaults. */
export function rehydrate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'rehydrate',
    epoch: 'e1',
    seq: 0,
    recovered: false,
    session: {
      user_id: 'u1',
      connection_id: 'c1',
      token_expires_at: '2026-11-24T13:00:00.000Z',
    },
    preferences: {},
    threads: {},
    memory: { status: 'ok' },
    ...overrides,
  };
}

/** A message as the server shows it. */
export function messageView(id: string, seq: number, threadId = 't1', content = `m${seq}`) {
  return {
    id,
    thread_id: threadId,
    role: 'user',
    content,
    created_at: '2026-11-24T12:00:00.000Z',
    seq,
  };
}

/** A UUID made from a small number, readable in failures. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
}
