/**
 * @module The part of Bun's `ServerWebSocket` the realtime layer uses, so the hub and handlers
 * can be tested with plain objects (Hono's Bun adapter does the same).
 */

/**
 * What `send` returns in Bun: bytes written (> 0), -1 when the message was queued under
 * backpressure, 0 when it was dropped (docs/design.md#one-frame-at-a-time).
 */
type SendStatus = number;

/** A server-side WebSocket as the realtime layer sees it. */
export interface SocketLike<Data = unknown> {
  /** Sends one text frame; see {@link SendStatus}. */
  send(data: string): SendStatus;
  /** Starts the closing handshake with a code and a short reason (≤ 123 bytes). */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet written to the kernel. */
  getBufferedAmount(): number;
  /** Per-connection data attached at upgrade time. */
  readonly data: Data;
}
