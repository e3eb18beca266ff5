/**
 * @module Reply builders and wire views of the fake Zep server: v1 text errors (Go `http.Error`),
 * v2 JSON errors, success bodies without a Content-Type (Go sniffs `text/plain`), route-404 bodies
 * (docs/zep.md#status-codes, "404 classification") and the per-version JSON views of stored rows.
 */
import type { StoredMessage, StoredSession, StoredUser } from './fake-zep-store.ts';
import { ZERO_UUID } from './fake-zep-store.ts';

/** Which Zep server the fake imitates (docs/zep.md#fake). */
/** `v3` is Zep Cloud's threads API (under `/api/v2`, like v2). */
export type ZepMode = 'v1' | 'v1-legacy-404' | 'v2-ce' | 'v2-cloud' | 'v3';

/** A complete answer: status, headers, body text. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The version header v0.x adds to every response (docs/zep.md#health). */
export const FAKE_ZEP_VERSION = '0.27.2-fake (n/a)';
/**
 * The v0.x web UI's HTML 404 page: a route-404 (docs/zep.md#status-codes, "404 classification").
 */
export const V1_HTML_404 =
  '<!DOCTYPE html>\n<html><head><title>Zep - 404</title></head><body><h1>404 Not Found</h1></body></html>\n';
/** chi's default route-404 body, which CE sends. */
export const V2_ROUTE_404 = '404 page not found\n';

/** Go's sniffed type for text and for JSON written without a Content-Type. */
export const TEXT = 'text/plain; charset=utf-8';
/** v2 `role_type` values (docs/zep.md#shapes). */
export const ROLE_TYPES = ['norole', 'system', 'assistant', 'user', 'function', 'tool'];

/** True for the v0.x modes, which serve `/api/v1`. */
export const isV1 = (mode: ZepMode): boolean => mode === 'v1' || mode === 'v1-legacy-404';

/** A Go `http.Error` reply: text, trailing newline, nosniff. */
export function textReply(status: number, message: string): Reply {
  return {
    status,
    headers: { 'content-type': TEXT, 'x-content-type-options': 'nosniff' },
    body: `${message}\n`,
  };
}

/** An error in the mode's style: v1 text, v2 JSON `{message}`. */
export function errorReply(mode: ZepMode, status: number, message: string): Reply {
  if (isV1(mode)) return textReply(status, message);
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  };
}

/**
 * A success body; Zep sets no Content-Type, so Go sniffs `text/plain` (docs/zep.md#status-codes).
 */
export function okJson(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': TEXT }, body: JSON.stringify(value) };
}

/** The route-404 of the mode (docs/zep.md#status-codes, "404 classification"). */
export function routeNotFound(mode: ZepMode): Reply {
  if (isV1(mode))
    return {
      status: 404,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: V1_HTML_404,
    };
  return textReply(404, V2_ROUTE_404.trimEnd());
}

/** Parses a JSON body; `undefined` means malformed. An empty body reads as `{}`. */
export function parseBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function userView(mode: ZepMode, user: StoredUser) {
  return isV1(mode) ? user : { ...user, project_uuid: ZERO_UUID, session_count: 0 };
}

export function sessionView(mode: ZepMode, session: StoredSession) {
  const { messages: _messages, ...rest } = session;
  return isV1(mode) ? rest : { ...rest, ended_at: null, project_uuid: ZERO_UUID };
}

export function messageView(mode: ZepMode, message: StoredMessage) {
  if (isV1(mode)) {
    const { role_type: _roleType, ...v1 } = message;
    return v1;
  }
  const v2 = { ...message, role_type: message.role_type ?? 'norole' };
  return mode === 'v2-cloud' ? { ...v2, processed: true } : v2;
}
