/**
 * @module Routing, auth and the version-specific answers of the fake Zep server, following
 * docs/zep.md#operations, #shapes, #status-codes, #health and #fake: v1 text errors and `OK` text, v2 JSON errors, 201 on
 * CE add, `role_type` checks, the 30-message / 2,500-char limits, soft delete with the "already
 * exists" trap, and the empty-memory shape of each version.
 */

import type { Reply, ZepMode } from './fake-zep-replies.ts';
import {
  errorReply,
  isObject,
  isV1,
  messageView,
  okJson,
  parseBody,
  ROLE_TYPES,
  sessionView,
  TEXT,
  textReply,
  userView,
} from './fake-zep-replies.ts';
import type { FakeZepStore, Meta, StoredMessage } from './fake-zep-store.ts';
import { searchMessages, ZERO_TIME, ZERO_UUID } from './fake-zep-store.ts';
import { V3_ROUTES } from './fake-zep-v3.ts';

export type { Reply, ZepMode } from './fake-zep-replies.ts';
export {
  errorReply,
  FAKE_ZEP_VERSION,
  isV1,
  routeNotFound,
  V1_HTML_404,
  V2_ROUTE_404,
} from './fake-zep-replies.ts';

/** What a route handler sees. */
export interface RouteContext {
  readonly mode: ZepMode;
  readonly store: FakeZepStore;
  readonly params: string[];
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

function createUser(ctx: RouteContext): Reply {
  const body = parseBody(ctx.body);
  if (!isObject(body)) return errorReply(ctx.mode, 400, 'bad request: invalid JSON body');
  const userId = body.user_id;
  if (typeof userId !== 'string' || userId === '') {
    return errorReply(ctx.mode, 400, 'bad request: UserID cannot be empty');
  }
  if (ctx.store.users.has(userId)) {
    return errorReply(ctx.mode, 400, `bad request: user already exists with user_id: ${userId}`);
  }
  const pick = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const user = ctx.store.addUser({
    user_id: userId,
    email: pick('email'),
    first_name: pick('first_name'),
    last_name: pick('last_name'),
    metadata: isObject(body.metadata) ? body.metadata : undefined,
  });
  return okJson(201, userView(ctx.mode, user));
}

function getUser(ctx: RouteContext): Reply {
  const user = ctx.store.users.get(ctx.params[0] ?? '');
  return user ? okJson(200, userView(ctx.mode, user)) : errorReply(ctx.mode, 404, 'not found');
}

function listUsers(ctx: RouteContext): Reply {
  const all = [...ctx.store.users.values()];
  if (isV1(ctx.mode)) {
    const limit = Number(ctx.query.get('limit') ?? all.length);
    return okJson(
      200,
      all.slice(0, limit > 0 ? limit : all.length).map((u) => userView(ctx.mode, u)),
    );
  }
  const size = Number(ctx.query.get('pageSize') ?? 10);
  const page = Number(ctx.query.get('pageNumber') ?? 1);
  if (!(size > 0 && page > 0)) return errorReply(ctx.mode, 400, 'bad request: invalid page');
  const users = all.slice((page - 1) * size, page * size).map((u) => userView(ctx.mode, u));
  return okJson(200, { users, total_count: all.length, row_count: users.length });
}

function createSession(ctx: RouteContext): Reply {
  const body = parseBody(ctx.body);
  if (!isObject(body)) return errorReply(ctx.mode, 400, 'bad request: invalid JSON body');
  const sessionId = typeof body.session_id === 'string' ? body.session_id : '';
  const userId = typeof body.user_id === 'string' ? body.user_id : null;
  if (sessionId === '') {
    // v0.x fails inside the store, not in validation: 500 (docs/zep.md#status-codes).
    if (isV1(ctx.mode))
      return errorReply(ctx.mode, 500, 'failed to create session: sessionID cannot be empty');
    return errorReply(ctx.mode, 400, 'bad request: SessionID cannot be empty');
  }
  if (ctx.mode === 'v2-cloud' && userId === null) {
    return errorReply(ctx.mode, 400, 'bad request: user_id is required');
  }
  if (userId !== null && !ctx.store.users.has(userId)) {
    return errorReply(
      ctx.mode,
      400,
      isV1(ctx.mode) ? `bad request: user does not exist for user_id: ${userId}` : 'user not found',
    );
  }
  // The unique index still covers soft-deleted rows (docs/zep.md#status-codes, "Known traps").
  if (ctx.store.sessions.has(sessionId)) {
    return errorReply(
      ctx.mode,
      400,
      `bad request: session already exists with session_id: ${sessionId}`,
    );
  }
  const metadata = isObject(body.metadata) ? (body.metadata as Meta) : null;
  return okJson(201, sessionView(ctx.mode, ctx.store.addSession(sessionId, userId, metadata)));
}

function getSession(ctx: RouteContext): Reply {
  const session = ctx.store.liveSession(ctx.params[0] ?? '');
  return session
    ? okJson(200, sessionView(ctx.mode, session))
    : errorReply(ctx.mode, 404, 'not found');
}

type Incoming = Omit<StoredMessage, 'uuid'> & { uuid?: string };

/** Checks and converts one wire message; a string is the 400 reason. */
function readMessage(mode: ZepMode, raw: unknown): Incoming | string {
  if (!isObject(raw)) return 'bad request: message must be an object';
  const { role, content, uuid, metadata } = raw;
  if (content !== undefined && typeof content !== 'string')
    return 'bad request: json: cannot unmarshal content';
  if (role !== undefined && typeof role !== 'string')
    return 'bad request: json: cannot unmarshal role';
  const at = new Date().toISOString();
  const message: Incoming = {
    uuid: typeof uuid === 'string' && uuid !== '' ? uuid : undefined,
    created_at: at,
    updated_at: at,
    role: (role as string | undefined) ?? '',
    content: (content as string | undefined) ?? '',
    metadata: isObject(metadata) ? metadata : undefined,
    token_count: 0,
  };
  if (isV1(mode)) return message;
  if (typeof raw.role_type !== 'string' || !ROLE_TYPES.includes(raw.role_type)) {
    return `bad request: role_type must be one of ${ROLE_TYPES.join(' ')}`;
  }
  if (Array.from(message.content).length > 2500)
    return 'bad request: message content exceeds 2500 characters';
  return { ...message, role_type: raw.role_type };
}

function addMemory(ctx: RouteContext): Reply {
  const sessionId = ctx.params[0] ?? '';
  const body = parseBody(ctx.body);
  if (!isObject(body)) return errorReply(ctx.mode, 400, 'bad request: invalid JSON body');
  const raw = body.messages ?? [];
  if (!Array.isArray(raw))
    return errorReply(ctx.mode, 400, 'bad request: json: cannot unmarshal messages');
  if (!isV1(ctx.mode) && raw.length > 30) {
    return errorReply(ctx.mode, 400, 'bad request: max messages per memory request is 30');
  }
  if (ctx.mode === 'v2-cloud' && !ctx.store.liveSession(sessionId))
    return errorReply(ctx.mode, 404, 'not found');
  const messages: Incoming[] = [];
  for (const item of raw) {
    const message = readMessage(ctx.mode, item);
    if (typeof message === 'string') return errorReply(ctx.mode, 400, message);
    messages.push(message);
  }
  ctx.store.addMessages(sessionId, messages);
  if (isV1(ctx.mode)) return { status: 200, headers: { 'content-type': TEXT }, body: 'OK' };
  return ctx.mode === 'v2-ce' ? okJson(201, { message: 'OK' }) : okJson(200, {});
}

function getMemory(ctx: RouteContext): Reply {
  const session = ctx.store.liveSession(ctx.params[0] ?? '');
  const lastnRaw = ctx.query.get('lastn');
  // Absent or 0 means the default window: v0.x memory.message_window 12, CE 6
  // (docs/zep.md#status-codes).
  const window = isV1(ctx.mode) ? 12 : 6;
  const lastn = lastnRaw === null ? window : Number(lastnRaw);
  if (!Number.isInteger(lastn)) return errorReply(ctx.mode, 400, 'bad request: invalid lastn');
  if (!isV1(ctx.mode) && lastn < 0)
    return errorReply(ctx.mode, 400, 'bad request: lastn must be >= 0');
  const stored = session?.messages ?? [];
  const messages = stored.slice(-(lastn > 0 ? lastn : window)).map((m) => messageView(ctx.mode, m));
  if (ctx.mode === 'v1-legacy-404' && messages.length === 0)
    return errorReply(ctx.mode, 404, 'not found');
  if (ctx.mode === 'v2-cloud' && !session) return errorReply(ctx.mode, 404, 'not found');
  if (!isV1(ctx.mode)) return okJson(200, { messages, relevant_facts: [] });
  const summary = {
    uuid: ZERO_UUID,
    created_at: ZERO_TIME,
    content: '',
    recent_message_uuid: ZERO_UUID,
    token_count: 0,
  };
  return okJson(200, { messages, summary });
}

function deleteMemory(ctx: RouteContext): Reply {
  if (!ctx.store.softDelete(ctx.params[0] ?? '')) return errorReply(ctx.mode, 404, 'not found');
  if (isV1(ctx.mode)) return { status: 200, headers: { 'content-type': TEXT }, body: 'OK' };
  return okJson(200, { message: 'OK' });
}

function readLimit(ctx: RouteContext): number | Reply {
  const raw = ctx.query.get('limit');
  const limit = raw === null ? 10 : Number(raw);
  if (!Number.isInteger(limit) || limit < 0)
    return errorReply(ctx.mode, 400, 'bad request: invalid limit');
  return limit === 0 ? 10 : limit;
}

function searchSession(ctx: RouteContext): Reply {
  const limit = readLimit(ctx);
  if (typeof limit !== 'number') return limit;
  const body = parseBody(ctx.body);
  if (!isObject(body)) return errorReply(ctx.mode, 400, 'bad request: invalid JSON body');
  const text = typeof body.text === 'string' ? body.text : '';
  if (text === '' && !isObject(body.metadata)) return errorReply(ctx.mode, 500, 'empty query');
  const hits = searchMessages(ctx.store, [ctx.params[0] ?? ''], text, limit);
  if (isV1(ctx.mode)) {
    return okJson(
      200,
      hits.map((h) => ({
        message: messageView(ctx.mode, h.message),
        summary: null,
        metadata: {},
        dist: h.score,
        embedding: null,
      })),
    );
  }
  return okJson(
    200,
    hits.map((h) => ({ message: messageView(ctx.mode, h.message), metadata: {}, score: h.score })),
  );
}

function searchSessions(ctx: RouteContext): Reply {
  const limit = readLimit(ctx);
  if (typeof limit !== 'number') return limit;
  const body = parseBody(ctx.body);
  if (!isObject(body) || typeof body.text !== 'string')
    return errorReply(ctx.mode, 400, 'bad request: text is required');
  const ids = Array.isArray(body.session_ids)
    ? body.session_ids.filter((s): s is string => typeof s === 'string')
    : [];
  if (typeof body.user_id === 'string') {
    for (const s of ctx.store.sessions.values())
      if (s.user_id === body.user_id) ids.push(s.session_id);
  }
  const hits = searchMessages(ctx.store, ids, body.text, limit);
  if (ctx.mode === 'v2-cloud') {
    return okJson(200, {
      results: hits.map((h) => ({
        message: messageView(ctx.mode, h.message),
        score: h.score,
        session_id: h.sessionId,
      })),
    });
  }
  // CE searches the graph and answers facts only (docs/zep.md#shapes, V2SessionSearchResponse).
  const facts = hits.map((h) => ({
    fact: {
      uuid: h.message.uuid,
      created_at: h.message.created_at,
      fact: h.message.content,
      rating: h.score,
    },
  }));
  return okJson(200, { results: facts });
}

type Handler = (ctx: RouteContext) => Reply;
type Route = readonly [method: string, pattern: string, handler: Handler];

const V1_ROUTES: Route[] = [
  ['GET', '/user', listUsers],
  ['POST', '/user', createUser],
  ['GET', '/user/:', getUser],
  ['POST', '/sessions', createSession],
  ['GET', '/sessions/:', getSession],
  ['GET', '/sessions/:/memory', getMemory],
  ['POST', '/sessions/:/memory', addMemory],
  ['DELETE', '/sessions/:/memory', deleteMemory],
  ['POST', '/sessions/:/search', searchSession],
];

const V2_ROUTES: Route[] = [
  ['POST', '/users', createUser],
  ['GET', '/users/:', getUser],
  ['GET', '/users-ordered', listUsers],
  ['POST', '/sessions', createSession],
  ['POST', '/sessions/search', searchSessions],
  ['GET', '/sessions/:', getSession],
  ['GET', '/sessions/:/memory', getMemory],
  ['POST', '/sessions/:/memory', addMemory],
  ['DELETE', '/sessions/:/memory', deleteMemory],
];

const CLOUD_ROUTES: Route[] = [...V2_ROUTES, ['POST', '/sessions/:/search', searchSession]];

/** Matches `/a/:/b` against path segments; returns the `:` captures or null. */
function matchPattern(pattern: string, segments: string[]): string[] | null {
  const parts = pattern.split('/').slice(1);
  if (parts.length !== segments.length) return null;
  const params: string[] = [];
  for (const [i, part] of parts.entries()) {
    const seg = segments[i] ?? '';
    if (part === ':') {
      if (seg === '') return null;
      params.push(seg);
    } else if (part !== seg) return null;
  }
  return params;
}

/** Finds the route for a path under the mode's prefix: a handler, 405, or null (route-404). */
export function findRoute(mode: ZepMode, method: string, rest: string) {
  const routes = isV1(mode)
    ? V1_ROUTES
    : mode === 'v2-ce'
      ? V2_ROUTES
      : mode === 'v3'
        ? (V3_ROUTES as readonly Route[])
        : CLOUD_ROUTES;
  const segments = rest.split('/').slice(1);
  let pathMatched = false;
  for (const [m, pattern, handler] of routes) {
    const raw = matchPattern(pattern, segments);
    if (!raw) continue;
    pathMatched = true;
    if (m !== method) continue;
    // CE percent-decodes path parameters; v0.x stores them still encoded (docs/zep.md#operations).
    const params = isV1(mode) ? raw : raw.map(safeDecode);
    return { handler, params };
  }
  return pathMatched ? ('method-not-allowed' as const) : null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The mode's API prefix. */
export function prefixOf(mode: ZepMode): string {
  return isV1(mode) ? '/api/v1' : '/api/v2';
}

/**
 * Checks the Authorization header; returns the 401 reply or null when allowed
 * (docs/zep.md#versions, #fake).
 */
export function checkAuth(
  mode: ZepMode,
  header: string | undefined,
  apiKey?: string,
  v1Bearer?: string,
) {
  const parts = (header ?? '').split(' ');
  if (isV1(mode)) {
    if (v1Bearer === undefined) return null;
    const ok = parts.length === 2 && parts[0]?.toLowerCase() === 'bearer' && parts[1] === v1Bearer;
    return ok ? null : textReply(401, 'Unauthorized');
  }
  const ok =
    parts.length === 2 &&
    parts[0] === 'Api-Key' &&
    (apiKey === undefined ? parts[1] !== '' : parts[1] === apiKey);
  return ok ? null : textReply(401, 'unauthorized');
}
