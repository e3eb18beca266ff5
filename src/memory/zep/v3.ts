/**
 * @module Zep API v3, the threads API of Zep Cloud (SDK `@getzep/zep-cloud` 3.x), pinned: the same
 * `/api/v2` prefix as v2 but only the `/threads`, `/users`, `/graph/search` and `/projects/info`
 * routes, never a `/sessions` one. Wire names are v2's swapped: `role` is the role enum and `name`
 * the speaker. Adds go at most 30 messages per call; content over `max_message_chars` (counted in
 * code points, as Zep counts characters) goes as parts (docs/design.md#content-rules).
 */
import { Type } from '@sinclair/typebox';
import type { MemoryHit, MemoryMessage, MemoryRecord } from '../client.ts';
import type { SearchRequest, ZepDialect, ZepRoutes } from './dialect.ts';
import { compiledOnUse, parseJsonWith, wireMetadata } from './dialect.ts';
import { partUuid, splitContent, ZEP_ROLES } from './parts.ts';

const PREFIX = '/api/v2';

/** Most messages one add call may carry. */
const V3_MAX_MESSAGES = 30;
/** Zep Cloud's content cap on free plans, in characters; the default of memory.zep.max_message_chars. */
const V3_DEFAULT_MAX_MESSAGE_CHARS = 2500;
/** Zep caps message metadata at 10 keys. */
const V3_MAX_METADATA_KEYS = 10;
/** Most results one graph search returns. */
const V3_MAX_SEARCH_LIMIT = 50;

/** Metadata keys lifeline adds to a part: the original message and "i/n". */
const PART_OF_KEY = 'lifeline_message_uuid';
const PART_KEY = 'lifeline_part';
/** Where the client's own metadata goes when it and the part keys would exceed 10 keys. */
const FOLDED_METADATA_KEY = 'lifeline_metadata';

const V3Message = Type.Object({
  uuid: Type.Optional(Type.String()),
  role: Type.String(),
  name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  content: Type.String(),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
});

const V3Messages = compiledOnUse(
  Type.Object({ messages: Type.Union([Type.Array(V3Message), Type.Null()]) }),
);

const V3Edges = compiledOnUse(
  Type.Object({
    // Asked for scope "edges", an answer without the key is not a search answer.
    edges: Type.Union([
      Type.Array(
        Type.Object({
          uuid: Type.Optional(Type.String()),
          fact: Type.String(),
          score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
          relevance: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
        }),
      ),
      Type.Null(),
    ]),
  }),
);

const V3Context = compiledOnUse(Type.Object({ context: Type.Union([Type.String(), Type.Null()]) }));

const V3ProjectInfo = compiledOnUse(Type.Object({ project: Type.Object({}) }));

/** The metadata of part `index` of `parts` (1-based in the wire value), within 10 keys. */
function partMetadata(
  base: Record<string, unknown> | undefined,
  uuid: string,
  index: number,
  parts: number,
): Record<string, unknown> | undefined {
  const own = parts === 1 ? {} : { [PART_OF_KEY]: uuid, [PART_KEY]: `${index + 1}/${parts}` };
  if (base === undefined) return parts === 1 ? undefined : own;
  if (Object.keys(base).length + Object.keys(own).length <= V3_MAX_METADATA_KEYS)
    return { ...base, ...own };
  // More keys than Zep takes: keep them all, as one JSON value, rather than lose the message.
  return { ...own, [FOLDED_METADATA_KEY]: JSON.stringify(base) };
}

function toWire(messages: MemoryMessage[], maxChars: number): unknown[] {
  const wire: unknown[] = [];
  for (const m of messages) {
    const known = ZEP_ROLES.has(m.role);
    const parts = splitContent(m.content, maxChars, 'code_points');
    const base = wireMetadata(m.metadata);
    for (const [index, content] of parts.entries()) {
      const metadata = partMetadata(base, m.uuid, index, parts.length);
      const message: Record<string, unknown> = {
        uuid: index === 0 ? m.uuid : partUuid(m.uuid, index),
        role: known ? m.role : 'norole',
        content,
      };
      // A role outside Zep's enum is kept as the speaker's name, so it reads back unchanged.
      if (!known) message.name = m.role;
      if (metadata !== undefined) message.metadata = metadata;
      wire.push(message);
    }
  }
  return wire;
}

type WireMessage = {
  uuid?: string;
  role: string;
  name?: string | null;
  content: string;
  metadata?: Record<string, unknown> | null;
};

function recordOf(m: WireMessage): MemoryRecord {
  const role = m.role === 'norole' && typeof m.name === 'string' && m.name !== '' ? m.name : m.role;
  return { uuid: m.uuid ?? null, role, content: m.content };
}

/** Joins consecutive parts of one message back into it. */
function joinParts(messages: WireMessage[]): MemoryRecord[] {
  const records: MemoryRecord[] = [];
  let open: { of: string; record: MemoryRecord } | null = null;
  for (const m of messages) {
    const of = m.metadata?.[PART_OF_KEY];
    if (typeof of === 'string' && open !== null && open.of === of) {
      open.record.content += m.content;
      continue;
    }
    const record = recordOf(m);
    if (typeof of === 'string') record.uuid = of;
    records.push(record);
    open = typeof of === 'string' ? { of, record } : null;
  }
  return records;
}

function parseMemory(text: string): MemoryRecord[] | null {
  const body = parseJsonWith(V3Messages, text);
  if (body === null) return null;
  return joinParts(body.messages ?? []);
}

function searchRequest(
  _threadId: string,
  userId: string,
  query: string,
  limit: number,
): SearchRequest {
  // The threads API searches the user's graph; facts (edges) are what the other versions answer.
  return {
    path: `${PREFIX}/graph/search`,
    query: {},
    body: { user_id: userId, query, scope: 'edges', limit: Math.min(limit, V3_MAX_SEARCH_LIMIT) },
  };
}

function parseSearch(text: string): MemoryHit[] | null {
  const body = parseJsonWith(V3Edges, text);
  if (body === null) return null;
  return (body.edges ?? []).map((edge) => ({
    kind: 'fact' as const,
    uuid: edge.uuid ?? null,
    role: null,
    content: edge.fact,
    score: edge.score ?? edge.relevance ?? null,
  }));
}

function parseContext(text: string): string | null {
  const body = parseJsonWith(V3Context, text);
  return body === null ? null : (body.context ?? '');
}

const thread = (id: string) => `${PREFIX}/threads/${encodeURIComponent(id)}`;

const routes: ZepRoutes = {
  users: `${PREFIX}/users`,
  threads: `${PREFIX}/threads`,
  addMessages: (id) => `${thread(id)}/messages`,
  recentMessages: (id) => `${thread(id)}/messages`,
  deleteThread: thread,
  context: (id) => `${thread(id)}/context`,
};

/** The v3 dialect for a content limit of `maxMessageChars` characters (memory.zep.max_message_chars). */
export function zepV3(maxMessageChars: number = V3_DEFAULT_MAX_MESSAGE_CHARS): ZepDialect {
  return {
    version: 'v3',
    prefix: PREFIX,
    routes,
    threadBody: (threadId, userId) => ({ thread_id: threadId, user_id: userId }),
    probe: { path: `${PREFIX}/projects/info`, query: {} },
    maxWireMessagesPerRequest: V3_MAX_MESSAGES,
    toWire: (messages) => toWire(messages, maxMessageChars),
    parseMemory,
    searchRequest,
    parseSearch,
    parseProbe: (text) => parseJsonWith(V3ProjectInfo, text) !== null,
    parseContext,
  };
}
