/**
 * @module The WebSocket close codes of `lifeline.v1`, by meaning; protocol.ts re-exports them, so
 * `import { CLOSE } from './protocol.ts'` keeps working.
 */

/** Close codes by meaning (docs/design.md#errors-and-close-codes; RFC 6455 §7.4.1 for 1xxx). */
export const CLOSE = {
  /** Normal closure. */
  normal: 1000,
  /** The server is going away (not a restart). */
  goingAway: 1001,
  /** Policy violation (e.g. the client did not offer `lifeline.v1`). */
  policy: 1008,
  /** A frame over `server.max_payload_bytes` (Bun sends this itself). */
  tooBig: 1009,
  /** An internal error; reconnect with backoff. */
  internal: 1011,
  /** Service restart; reconnect after the `reconnect.after_ms` hint. */
  restart: 1012,
  /** The token is invalid or expired: refresh it, then reconnect. */
  refreshToken: 4001,
  /** Valid token but not allowed (or the identity changed on `auth.refresh`): do not retry. */
  forbidden: 4003,
  /** Rate limit, too many sockets for the user, or a slow consumer: back off, then reconnect. */
  rateLimited: 4008,
} as const;
/** One of the values of {@link CLOSE}. */
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];
