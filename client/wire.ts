/**
 * @module The small pieces between the client and the wire: the socket shape it needs, URLs with
 * resume parameters, the subprotocol list that carries the token, token expiry, message UUIDs,
 * and the client's error type.
 */
import type { ErrorCode } from '../src/realtime/protocol.ts';

/** The subprotocol the server speaks (docs/design.md#websocket). */
export const SUBPROTOCOL = 'lifeline.v1';

/** The parts of a WebSocket the client uses; the browser's and Bun's `WebSocket` both fit. */
export interface WebSocketLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket; the default is `new WebSocket(url, protocols)`. */
export type SocketFactory = (url: string, protocols: string[]) => WebSocketLike;

/** Why a request failed: a server `error` code, or one of the client's own. */
export type RequestErrorCode =
  | ErrorCode
  | 'timeout'
  | 'offline'
  | 'disconnected'
  | 'closed'
  | 'queue_full';

/** The rejection of `send()` and the other requests; branch on `code`. */
export class LifelineRequestError extends Error {
  /**
   * A server error code (docs/protocol.md §6) or `timeout`, `offline`, `disconnected`, `closed`,
   * `queue_full`.
   */
  readonly code: RequestErrorCode;
  constructor(code: RequestErrorCode, message: string) {
    super(message);
    this.name = 'LifelineRequestError';
    this.code = code;
  }
}

/**
 * The socket URL for one attempt: `http(s)` becomes `ws(s)`, resume parameters are set, and one
 * `thread` parameter per thread whose state the snapshot should carry.
 */
export function socketUrl(
  base: string,
  params: { threads?: readonly string[]; since?: number; epoch?: string | null },
): string {
  const location = (globalThis as { location?: { href: string } }).location;
  const url = new URL(base, location?.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (params.threads !== undefined && params.threads.length > 0) {
    url.searchParams.delete('thread');
    for (const thread of params.threads) url.searchParams.append('thread', thread);
  }
  if (params.epoch && params.since !== undefined) {
    url.searchParams.set('since', String(params.since));
    url.searchParams.set('epoch', params.epoch);
  } else {
    url.searchParams.delete('since');
    url.searchParams.delete('epoch');
  }
  return url.toString();
}

/**
 * Subprotocols to offer: `lifeline.v1` and the token entry browsers use (docs/design.md#websocket).
 */
export function socketProtocols(token: string): string[] {
  return [SUBPROTOCOL, `bearer.${token}`];
}

/**
 * The `exp` of a JWT in ms since the epoch, read without verifying (only to avoid reconnecting
 * with a token that has already expired); undefined when it cannot be read.
 */
export function tokenExpiryMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** A random UUID v4 (`crypto.randomUUID` is missing outside secure contexts, e.g. plain http on a LAN). */
export function randomUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
