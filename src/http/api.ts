/**
 * @module The server-to-server API (docs/design.md#http-api): a backend writes preferences,
 * personalization and messages (e.g. the assistant's reply), searches memory, publishes events and
 * reads a user's state. Bearer `auth.api_key`; TypeBox bodies; ids checked as on the WebSocket;
 * each write is one transaction, pushed to the user's sockets only after it committed.
 */
import { randomUUID } from 'node:crypto';
import { Elysia, t } from 'elysia';
import {
  findBadString,
  hasLoneSurrogate,
  hasNul,
  isBlank,
  nestingDepth,
  utf8Bytes,
} from '../lib/text.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import type { Realtime } from '../realtime/plugin.ts';
import { isAcceptableId, MESSAGE_ROLES } from '../realtime/protocol.ts';
import { memoryResultView } from '../realtime/push.ts';
import { parseSearchLimit, SEARCH_LIMIT_RULE } from '../realtime/search-limit.ts';
import { DEFAULT_FRAME_LIMITS } from '../realtime/validate-frame.ts';
import type { Store } from '../storage/store.ts';
import { requireApiKey } from './auth-key.ts';
import { HttpError } from './errors.ts';

/** What the API routes need. */
export interface ApiOptions {
  /** `auth.api_key`, read per request. */
  apiKey: () => string | undefined;
  store: Pick<Store, 'setPreferences' | 'setPersonalization' | 'threadOwner'>;
  memory: Pick<MemoryPort, 'search'>;
  realtime: Pick<Realtime, 'publish' | 'fanOut' | 'readState' | 'commitMessage'>;
}

const EVENT_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
// Not t.Record: Elysia coerces a body to a Record's shape (`[1,2]` becomes {"0":1,"1":2}), so
// free-form objects are taken as unknown and checked by requireObject.
const JsonObject = t.Unknown({ description: 'any JSON object' });
const security = [{ apiKey: [] }];

/**
 * Throws 400 unless `value` is a usable id (docs/design.md#ids-and-limits; reserved names refused).
 */
function checkId(name: string, value: string): string {
  if (!isAcceptableId(value)) {
    throw new HttpError(
      400,
      'bad_request',
      `${name}: expected an id matching [A-Za-z0-9._-]{1,128}`,
    );
  }
  return value;
}

/** Throws 400 unless `value` is a JSON object (not an array, string or null). */
export function requireObject(path: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'bad_request', `${path}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Throws 400 for free-form JSON that is too deep, too large, or holds lone surrogates or NUL. */
function checkJson(path: string, value: unknown, maxBytes: number): void {
  const limit = DEFAULT_FRAME_LIMITS.maxDepth;
  if (nestingDepth(value, limit) > limit) {
    throw new HttpError(400, 'bad_request', `${path}: nested deeper than ${limit} levels`);
  }
  const bad = findBadString(value, (text) => hasLoneSurrogate(text) || hasNul(text));
  if (bad !== undefined) {
    throw new HttpError(400, 'bad_request', `${path}${bad}: contains a lone surrogate or U+0000`);
  }
  const bytes = utf8Bytes(JSON.stringify(value) ?? 'null');
  if (bytes > maxBytes) {
    throw new HttpError(400, 'too_large', `${path}: ${bytes} bytes; the limit is ${maxBytes}`);
  }
}

const forbidden = () =>
  new HttpError(403, 'forbidden_thread', 'the thread belongs to another user');

const doc = (summary: string) => ({ detail: { summary, tags: ['api'], security } });

function guarded(name: string, deps: ApiOptions) {
  return new Elysia({ name }).onBeforeHandle(({ request }) =>
    requireApiKey(request.headers.get('authorization'), deps.apiKey()),
  );
}

/** The `/api/v1` routes except admin. */
export function apiRoutes(deps: ApiOptions) {
  return new Elysia({ name: 'lifeline.api' }).use(userRoutes(deps)).use(threadRoutes(deps));
}

/** Routes under `/api/v1/users/:user`. */
function userRoutes(deps: ApiOptions) {
  return guarded('lifeline.api.users', deps)
    .put(
      '/api/v1/users/:user/preferences',
      ({ params, body }) => putPreferences(deps, params.user, body),
      { body: JsonObject, ...doc('Replace a user’s preferences; pushed as `preferences`') },
    )
    .put(
      '/api/v1/users/:user/threads/:thread/personalization',
      ({ params, body }) => putPersonalization(deps, params.user, params.thread, body),
      {
        body: JsonObject,
        ...doc('Replace a thread’s personalization; pushed as `personalization`'),
      },
    )
    .post(
      '/api/v1/users/:user/events',
      async ({ params, body, set }) => {
        const answer = await postEvent(deps, params.user, body);
        set.status = 202;
        return answer;
      },
      {
        body: t.Object({ event: t.String(), data: t.Optional(t.Unknown()) }),
        ...doc('Publish an application event to a user; pushed as `event`'),
      },
    )
    .get(
      '/api/v1/users/:user/state',
      ({ params, request }) => {
        const userId = checkId('user', params.user);
        const threads = new URL(request.url).searchParams
          .getAll('thread')
          .map((id) => checkId('thread', id));
        return deps.realtime.readState(userId, threads);
      },
      doc('A user’s state: the content of a `rehydrate` frame (`?thread=` repeatable)'),
    );
}

/** Routes under `/api/v1/threads/:thread`. */
function threadRoutes(deps: ApiOptions) {
  return guarded('lifeline.api.threads', deps)
    .post(
      '/api/v1/threads/:thread/messages',
      ({ params, body, set }) => postMessage(deps, params.thread, body, set),
      {
        body: t.Object({
          user_id: t.String(),
          role: t.Union(MESSAGE_ROLES.map((role) => t.Literal(role))),
          content: t.String(),
          id: t.Optional(t.String({ format: 'uuid' })),
          metadata: t.Optional(JsonObject),
        }),
        ...doc(
          'Commit a message (e.g. the assistant’s reply); pushed as `message`, delivered to memory by the outbox',
        ),
      },
    )
    .get(
      '/api/v1/threads/:thread/memory',
      ({ params, query }) => searchMemory(deps, params.thread, query),
      {
        // `limit` is read as text and checked by the rule the WebSocket uses (parseSearchLimit):
        // a schema coercion here was skipped in the compiled binary, letting 0 or 1e9 through.
        query: t.Object({
          query: t.String(),
          limit: t.Optional(t.String({ description: `the most hits: ${SEARCH_LIMIT_RULE}` })),
        }),
        ...doc('Search a thread’s long-term memory; `degraded` while the memory service is out'),
      },
    );
}

async function putPreferences(deps: ApiOptions, user: string, body: unknown) {
  const userId = checkId('user', user);
  const preferences = requireObject('body', body);
  checkJson('body', preferences, DEFAULT_FRAME_LIMITS.maxObjectBytes);
  const seq = await deps.store.setPreferences(userId, preferences);
  await deps.realtime.fanOut(userId, { type: 'preferences', seq, preferences });
  return { seq };
}

async function putPersonalization(deps: ApiOptions, user: string, thread: string, body: unknown) {
  const userId = checkId('user', user);
  const threadId = checkId('thread', thread);
  const state = requireObject('body', body);
  checkJson('body', state, DEFAULT_FRAME_LIMITS.maxObjectBytes);
  const result = await deps.store.setPersonalization(userId, threadId, state);
  if (result.kind === 'forbidden_thread') throw forbidden();
  const push = { type: 'personalization' as const, seq: result.seq, thread_id: threadId, state };
  await deps.realtime.fanOut(userId, push);
  return { seq: result.seq };
}

async function postEvent(deps: ApiOptions, user: string, body: { event: string; data?: unknown }) {
  const userId = checkId('user', user);
  if (!EVENT_NAME.test(body.event)) {
    throw new HttpError(
      400,
      'bad_request',
      'event: expected a name matching [A-Za-z0-9._:-]{1,128}',
    );
  }
  const data = body.data ?? null;
  checkJson('data', data, DEFAULT_FRAME_LIMITS.maxObjectBytes);
  return { seq: await deps.realtime.publish(userId, 'event', { event: body.event, data }) };
}

interface MessageBody {
  user_id: string;
  role: (typeof MESSAGE_ROLES)[number];
  content: string;
  id?: string;
  metadata?: unknown;
}

async function postMessage(
  deps: ApiOptions,
  thread: string,
  body: MessageBody,
  set: { status?: number | string },
) {
  const threadId = checkId('thread', thread);
  const userId = checkId('user_id', body.user_id);
  const metadata =
    body.metadata === undefined ? undefined : requireObject('metadata', body.metadata);
  if (metadata !== undefined) checkJson('metadata', metadata, DEFAULT_FRAME_LIMITS.maxObjectBytes);
  const id = body.id ?? randomUUID();
  const result = await deps.realtime.commitMessage({
    userId,
    threadId,
    id,
    role: body.role,
    content: body.content,
    ...(metadata === undefined ? {} : { metadata }),
  });
  switch (result.kind) {
    case 'ok':
      set.status = result.duplicate ? 200 : 201;
      return {
        id,
        seq: result.seq,
        ...(result.turnId === undefined ? {} : { turn_id: result.turnId }),
      };
    case 'rejected':
      throw new HttpError(400, result.code, result.message);
    case 'forbidden_thread':
      throw forbidden();
    case 'conflict':
      throw new HttpError(
        409,
        'conflict',
        'this message id is already used by another thread or user',
      );
  }
}

async function searchMemory(
  deps: ApiOptions,
  thread: string,
  query: { query: string; limit?: string },
) {
  const threadId = checkId('thread', thread);
  const limit = parseSearchLimit(query.limit);
  if (limit === undefined) {
    const got = JSON.stringify(query.limit?.slice(0, 32));
    throw new HttpError(400, 'bad_request', `limit: ${SEARCH_LIMIT_RULE}, got ${got}`);
  }
  if (isBlank(query.query)) throw new HttpError(400, 'bad_request', 'query: must not be blank');
  checkJson('query', query.query, Number.POSITIVE_INFINITY);
  const bytes = utf8Bytes(query.query);
  if (bytes > DEFAULT_FRAME_LIMITS.maxQueryBytes) {
    throw new HttpError(
      400,
      'too_large',
      `query: ${bytes} bytes; the limit is ${DEFAULT_FRAME_LIMITS.maxQueryBytes}`,
    );
  }
  const owner = await deps.store.threadOwner(threadId);
  // Nobody owns the thread: lifeline never stored anything under it; do not ask the service.
  if (owner === null) return { results: [], degraded: false };
  const found = await deps.memory.search({ userId: owner, threadId, query: query.query, limit });
  return { results: found.results.slice(0, limit).map(memoryResultView), degraded: found.degraded };
}
