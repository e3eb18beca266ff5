/**
 * @module The fake Zep server's v3 mode: Zep Cloud's threads API under `/api/v2`, as the official
 * SDK `@getzep/zep-cloud` 3.x reads it (its serialization types are the schema): threads created
 * with both ids for an existing user, no auto-create on add, at most 30 messages and 2,500
 * characters (code points) per message, at most 10 metadata keys, `role` the enum and `name` the
 * speaker, `{message}` JSON errors, facts from `POST /graph/search` as edges, `GET /projects/info`.
 */
import type { Reply } from './fake-zep-replies.ts';
import { errorReply, isObject, okJson, parseBody, ROLE_TYPES } from './fake-zep-replies.ts';
import type { FakeZepStore, StoredMessage } from './fake-zep-store.ts';
import { searchMessages, ZERO_UUID } from './fake-zep-store.ts';

/** Zep Cloud's free-plan content cap, in characters. */
export const V3_MAX_CHARS = 2500;
export const V3_MAX_MESSAGES = 30;
export const V3_MAX_METADATA_KEYS = 10;

/** What a v3 handler sees. */
export interface V3Context {
  readonly store: FakeZepStore;
  readonly params: string[];
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

const fail = (status: number, message: string) => errorReply('v3', status, message);

function createUser(ctx: V3Context): Reply {
  const body = parseBody(ctx.body);
  if (!isObject(body)) return fail(400, 'bad request: invalid JSON body');
  const userId = body.user_id;
  if (typeof userId !== 'string' || userId === '') return fail(400, 'user_id is required');
  if (ctx.store.users.has(userId)) return fail(400, `user already exists with user_id: ${userId}`);
  const user = ctx.store.addUser({
    user_id: userId,
    metadata: isObject(body.metadata) ? body.metadata : undefined,
  });
  return okJson(201, { ...user, project_uuid: ZERO_UUID });
}

function getUser(ctx: V3Context): Reply {
  const user = ctx.store.users.get(ctx.params[0] ?? '');
  return user ? okJson(200, { ...user, project_uuid: ZERO_UUID }) : fail(404, 'user not found');
}

function threadView(store: FakeZepStore, threadId: string) {
  const s = store.sessions.get(threadId);
  if (s === undefined) return null;
  return {
    uuid: s.uuid,
    thread_id: s.session_id,
    user_id: s.user_id ?? undefined,
    project_uuid: ZERO_UUID,
    created_at: s.created_at,
  };
}

function createThread(ctx: V3Context): Reply {
  const body = parseBody(ctx.body);
  if (!isObject(body)) return fail(400, 'bad request: invalid JSON body');
  const { thread_id: threadId, user_id: userId } = body;
  if (typeof threadId !== 'string' || threadId === '') return fail(400, 'thread_id is required');
  if (typeof userId !== 'string' || userId === '') return fail(400, 'user_id is required');
  if (!ctx.store.users.has(userId)) return fail(404, 'user not found');
  if (ctx.store.sessions.has(threadId))
    return fail(400, `thread already exists with thread_id: ${threadId}`);
  ctx.store.addSession(threadId, userId, null);
  return okJson(201, threadView(ctx.store, threadId));
}

function deleteThread(ctx: V3Context): Reply {
  if (!ctx.store.sessions.delete(ctx.params[0] ?? '')) return fail(404, 'thread not found');
  return okJson(200, { message: 'thread deleted' });
}

type Incoming = Omit<StoredMessage, 'uuid'> & { uuid?: string };

/** Checks and converts one v3 wire message; a string is the 400 reason. */
function readMessage(raw: unknown): Incoming | string {
  if (!isObject(raw)) return 'message must be an object';
  const { role, name, content, uuid, metadata } = raw;
  if (typeof content !== 'string' || content === '') return 'message content is required';
  if (typeof role !== 'string' || !ROLE_TYPES.includes(role))
    return `role must be one of ${ROLE_TYPES.join(' ')}`;
  if (name !== undefined && typeof name !== 'string') return 'name must be a string';
  if (Array.from(content).length > V3_MAX_CHARS)
    return `message content exceeds ${V3_MAX_CHARS} characters`;
  if (metadata !== undefined && !isObject(metadata)) return 'metadata must be an object';
  if (isObject(metadata) && Object.keys(metadata).length > V3_MAX_METADATA_KEYS)
    return `metadata has more than ${V3_MAX_METADATA_KEYS} keys`;
  const at = new Date().toISOString();
  return {
    uuid: typeof uuid === 'string' && uuid !== '' ? uuid : undefined,
    created_at: at,
    updated_at: at,
    role,
    name: typeof name === 'string' ? name : undefined,
    content,
    metadata: isObject(metadata) ? metadata : undefined,
    token_count: 0,
  };
}

function addMessages(ctx: V3Context): Reply {
  const threadId = ctx.params[0] ?? '';
  const body = parseBody(ctx.body);
  if (!isObject(body) || !Array.isArray(body.messages))
    return fail(400, 'bad request: messages is required');
  if (body.messages.length > V3_MAX_MESSAGES)
    return fail(400, `at most ${V3_MAX_MESSAGES} messages per request`);
  if (!ctx.store.sessions.has(threadId)) return fail(404, 'thread not found');
  const messages: Incoming[] = [];
  for (const item of body.messages) {
    const message = readMessage(item);
    if (typeof message === 'string') return fail(400, message);
    messages.push(message);
  }
  const before = ctx.store.deliveryLog.length;
  ctx.store.addMessages(threadId, messages);
  const uuids = ctx.store.deliveryLog.slice(before).map((d) => d.uuid);
  return okJson(200, { message_uuids: uuids, task_id: crypto.randomUUID() });
}

function messageView(m: StoredMessage) {
  const { role_type: _roleType, token_count: _tokens, updated_at: _updated, ...rest } = m;
  return { ...rest, processed: true };
}

function getMessages(ctx: V3Context): Reply {
  const thread = ctx.store.sessions.get(ctx.params[0] ?? '');
  if (thread === undefined) return fail(404, 'thread not found');
  const lastn = Number(ctx.query.get('lastn') ?? 0);
  if (!Number.isInteger(lastn) || lastn < 0) return fail(400, 'lastn must be a whole number');
  const all = thread.messages;
  const picked = lastn > 0 ? all.slice(-lastn) : all.slice(0, Number(ctx.query.get('limit') ?? 50));
  return okJson(200, {
    messages: picked.map(messageView),
    row_count: picked.length,
    total_count: all.length,
    thread_created_at: thread.created_at,
    user_id: thread.user_id ?? undefined,
  });
}

function getContext(ctx: V3Context): Reply {
  const thread = ctx.store.sessions.get(ctx.params[0] ?? '');
  if (thread === undefined) return fail(404, 'thread not found');
  const facts = thread.messages.slice(-5).map((m) => `  - ${m.content.slice(0, 200)}`);
  const context = `FACTS and ENTITIES for user ${thread.user_id ?? ''}:\n<FACTS>\n${facts.join('\n')}\n</FACTS>`;
  return okJson(200, { context });
}

function graphSearch(ctx: V3Context): Reply {
  const body = parseBody(ctx.body);
  if (!isObject(body) || typeof body.query !== 'string' || body.query.trim() === '')
    return fail(400, 'query is required');
  const userId = typeof body.user_id === 'string' ? body.user_id : undefined;
  if (userId === undefined && typeof body.graph_id !== 'string')
    return fail(400, 'user_id or graph_id is required');
  const limit = body.limit === undefined ? 10 : Number(body.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 50)
    return fail(400, 'limit must be between 1 and 50');
  const scope = body.scope ?? 'edges';
  if (userId !== undefined && !ctx.store.users.has(userId)) return fail(404, 'user not found');
  const threads = [...ctx.store.sessions.values()]
    .filter((s) => s.user_id === userId)
    .map((s) => s.session_id);
  const hits = scope === 'edges' ? searchMessages(ctx.store, threads, body.query, limit) : [];
  const edges = hits.map((h) => ({
    uuid: h.message.uuid,
    fact: h.message.content,
    name: 'MENTIONS',
    created_at: h.message.created_at,
    source_node_uuid: ZERO_UUID,
    target_node_uuid: ZERO_UUID,
    score: h.score,
  }));
  return okJson(200, { edges, nodes: [], episodes: [] });
}

function projectInfo(): Reply {
  return okJson(200, {
    project: {
      uuid: ZERO_UUID,
      name: 'fake project',
      description: 'the lifeline test fake',
      created_at: '2026-01-01T00:00:00Z',
    },
  });
}

type Handler = (ctx: V3Context) => Reply;

/** The v3 routes, relative to `/api/v2`. */
export const V3_ROUTES: ReadonlyArray<readonly [string, string, Handler]> = [
  ['GET', '/projects/info', projectInfo],
  ['POST', '/users', createUser],
  ['GET', '/users/:', getUser],
  ['POST', '/threads', createThread],
  ['DELETE', '/threads/:', deleteThread],
  ['GET', '/threads/:/messages', getMessages],
  ['POST', '/threads/:/messages', addMessages],
  ['GET', '/threads/:/context', getContext],
  ['POST', '/graph/search', graphSearch],
];
