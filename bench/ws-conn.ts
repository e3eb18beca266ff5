/**
 * One benchmark client socket: connect (resolving at the first application frame), request/reply
 * round trips matched by id, and close. Used by bench/ws-client.ts for all three servers.
 */
import {
  classify,
  type Identity,
  openArgs,
  type Resume,
  requestId,
  requestText,
  type ServerKind,
} from './ws-protocols.ts';

/** Outcome of one connect: time from `new WebSocket` to the first application frame. */
export interface Opened {
  ms: number;
  recovered: boolean;
}

/** A client socket that survives reconnects (its resume state is kept). */
export class Conn {
  private ws: WebSocket | undefined;
  private readonly resume: Resume = {};
  private readonly pending = new Map<string, (ok: boolean) => void>();
  private counter = 0;
  /** Frames received after the first one that answered none of this socket's requests. */
  pushes = 0;
  private closedWaiter: (() => void) | undefined;

  constructor(
    private readonly kind: ServerKind,
    private readonly port: number,
    private readonly identity: Identity | undefined,
  ) {}

  /** Opens the socket; rejects when it closes or fails before the first frame. */
  connect(): Promise<Opened> {
    const started = performance.now();
    const { url, options } = openArgs(this.kind, this.port, this.identity, this.resume);
    return new Promise((resolve, reject) => {
      // Bun's client takes headers and protocols in an options object.
      const ws = new WebSocket(url, options as unknown as string[]);
      this.ws = ws;
      let opened = false;
      ws.onmessage = (event) => {
        const incoming = classify(this.kind, String(event.data), this.resume);
        if (incoming.kind === 'first' && !opened) {
          opened = true;
          resolve({ ms: performance.now() - started, recovered: incoming.recovered });
        } else if (incoming.kind === 'reply' && this.pending.has(incoming.id)) {
          this.pending.get(incoming.id)?.(incoming.ok);
          this.pending.delete(incoming.id);
        } else if (incoming.kind === 'send') {
          ws.send(incoming.text);
        } else if (opened) {
          // Another socket's request fanned out to this one (or a server notice).
          this.pushes += 1;
        }
      };
      ws.onclose = (event) => {
        for (const settle of this.pending.values()) settle(false);
        this.pending.clear();
        this.closedWaiter?.();
        if (!opened)
          reject(new Error(`closed ${event.code} ${event.reason} before the first frame`));
      };
    });
  }

  /** Sends one request and resolves with its round-trip time and whether it succeeded. */
  request(): Promise<{ ms: number; ok: boolean }> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ ms: 0, ok: false });
    this.counter += 1;
    const text = requestText(this.kind, this.counter, `t-${this.identity?.userId ?? 'x'}`);
    const id = requestId(this.kind, this.counter, text);
    const started = performance.now();
    return new Promise((resolve) => {
      this.pending.set(id, (ok) => resolve({ ms: performance.now() - started, ok }));
      ws.send(text);
    });
  }

  /** Closes the socket and resolves once it is closed. */
  close(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.closedWaiter = resolve;
      ws.close();
    });
  }
}
