/**
 * Promise helpers over Bun's WebSocket client: open, the next frame, the close. Every frame that
 * arrives is kept in order, so a test can assert that nothing came before a close.
 */

/** A close as the client saw it. */
export interface Closed {
  code: number;
  reason: string;
}

/** Options for {@link openClient}. */
export interface OpenOptions {
  headers?: Record<string, string>;
  protocols?: string[];
}

/** A connected (or refused) test client. */
export class WsClient {
  /** Every text frame received, parsed, in order. */
  readonly frames: unknown[] = [];
  /** Raw data of every frame received, in order. */
  readonly raw: Array<string | ArrayBuffer | Uint8Array> = [];
  /** Resolves once the socket closed (also when the upgrade failed: code 1006). */
  readonly closed: Promise<Closed>;
  /** Resolves true once open, false if the socket closed before opening. */
  readonly opened: Promise<boolean>;
  private readonly waiters: Array<() => void> = [];
  private read = 0;
  private closeInfo: Closed | undefined;

  constructor(readonly socket: WebSocket) {
    socket.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve) => {
      socket.addEventListener('open', () => resolve(true));
      socket.addEventListener('close', () => resolve(false));
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener('close', (event) => {
        this.closeInfo = { code: event.code, reason: event.reason };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    socket.addEventListener('message', (event) => {
      this.raw.push(event.data as string);
      this.frames.push(typeof event.data === 'string' ? JSON.parse(event.data) : event.data);
      this.wake();
    });
  }

  /** The next frame not yet returned; rejects if the socket closes first. */
  async next<T = Record<string, unknown>>(): Promise<T> {
    for (;;) {
      if (this.read < this.frames.length) return this.frames[this.read++] as T;
      if (this.closeInfo !== undefined) {
        throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason})`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The next frame whose `type` is `type`, skipping others. */
  async nextOfType<T = Record<string, unknown>>(type: string): Promise<T> {
    for (;;) {
      const frame = await this.next<{ type?: unknown }>();
      if (frame.type === type) return frame as T;
    }
  }

  /** Sends an object as JSON text, or a string / bytes as they are. */
  send(frame: unknown): void {
    if (typeof frame === 'string') this.socket.send(frame);
    else if (frame instanceof Uint8Array) this.socket.send(new Uint8Array(frame));
    else this.socket.send(JSON.stringify(frame));
  }

  /** Sends `frame` and waits for the next frame. */
  async request<T = Record<string, unknown>>(frame: unknown): Promise<T> {
    this.send(frame);
    return this.next<T>();
  }

  /** Frames received and not yet returned by {@link next}. */
  get unread(): unknown[] {
    return this.frames.slice(this.read);
  }

  /** The negotiated subprotocol. */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** Closes (if open) and waits for the close. */
  async close(): Promise<Closed> {
    if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, 'test done');
    return this.closed;
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** Opens a client; wait on `opened`, `next()` or `closed`. */
export function openClient(url: string, options: OpenOptions = {}): WsClient {
  const init: Record<string, unknown> = {};
  if (options.headers !== undefined) init.headers = options.headers;
  if (options.protocols !== undefined) init.protocols = options.protocols;
  // Bun's client takes headers and protocols in one options object.
  const socket = new WebSocket(url, init as unknown as string[]);
  return new WsClient(socket);
}

/** Opens a client and resolves with its first frame (the rehydrate) and the client. */
export async function connect<T = Record<string, unknown>>(
  url: string,
  options: OpenOptions = {},
): Promise<{ client: WsClient; first: T }> {
  const client = openClient(url, options);
  const first = await client.next<T>();
  return { client, first };
}
