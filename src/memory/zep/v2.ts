/**
 * @module Zep API v2 (Community Edition 1.0.x and Cloud), pinned: routes under `/api/v2` only,
 * `role_type` (required, from the enum) plus `role`, at most 30 messages and 2,500 characters of
 * content per message (CE), search through `POST /sessions/search` with the session id in the body
 * because CE has no per-session search route (docs/zep.md#operations, #shapes, #version-pitfalls).
 */
import { Type } from '@sinclair/typebox';
import type { MemoryHit, MemoryMessage, MemoryRecord } from '../client.ts';
import type { SearchRequest, ZepDialect } from './dialect.ts';
import {
  compiledOnUse,
  parseJsonWith,
  sessionBody,
  sessionRoutes,
  wireMetadata,
} from './dialect.ts';
import { partUuid, splitContent as splitParts, ZEP_ROLES } from './parts.ts';

const PREFIX = '/api/v2';

/** CE's per-request message cap. */
const V2_MAX_MESSAGES = 30;
/**
 * CE's content cap, applied here in UTF-8 bytes: whether the server counts bytes or characters,
 * a part within 2,500 bytes is accepted (decision: split long content, never truncate it).
 */
const V2_MAX_CONTENT_BYTES = 2500;

const V2Message = Type.Object({
  uuid: Type.Optional(Type.String()),
  role: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  role_type: Type.Optional(Type.String()),
  content: Type.String(),
});

const V2Memory = compiledOnUse(
  Type.Object({ messages: Type.Union([Type.Array(V2Message), Type.Null()]) }),
);

const V2Fact = Type.Object({
  uuid: Type.Optional(Type.String()),
  fact: Type.String(),
  rating: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
});

const V2SearchResponse = compiledOnUse(
  Type.Object({
    results: Type.Union([
      Type.Array(
        Type.Object({
          fact: Type.Optional(Type.Union([V2Fact, Type.Null()])),
          message: Type.Optional(Type.Union([V2Message, Type.Null()])),
          score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
        }),
      ),
      Type.Null(),
    ]),
  }),
);

const V2UsersPage = compiledOnUse(
  Type.Object({ users: Type.Union([Type.Array(Type.Unknown()), Type.Null()]) }),
);

/** Splits content into parts of at most `maxBytes` UTF-8 bytes, never inside a code point. */
export function splitContent(content: string, maxBytes: number = V2_MAX_CONTENT_BYTES): string[] {
  return splitParts(content, maxBytes, 'utf8_bytes');
}

export { partUuid };

function toWire(messages: MemoryMessage[]): unknown[] {
  const wire: unknown[] = [];
  for (const m of messages) {
    const roleType = ZEP_ROLES.has(m.role) ? m.role : 'norole';
    const parts = splitContent(m.content);
    const base = wireMetadata(m.metadata);
    for (const [index, content] of parts.entries()) {
      // The first part keeps the message's own UUID; the others get stable derived ones.
      const uuid = index === 0 ? m.uuid : partUuid(m.uuid, index);
      const metadata =
        parts.length === 1
          ? base
          : {
              ...base,
              lifeline_message_uuid: m.uuid,
              lifeline_part: index + 1,
              lifeline_parts: parts.length,
            };
      const message = { uuid, role_type: roleType, role: m.role, content };
      wire.push(metadata === undefined ? message : { ...message, metadata });
    }
  }
  return wire;
}

function parseMemory(text: string): MemoryRecord[] | null {
  const memory = parseJsonWith(V2Memory, text);
  if (memory === null) return null;
  return (memory.messages ?? []).map((m) => ({
    uuid: m.uuid ?? null,
    role: m.role ?? m.role_type ?? 'norole',
    content: m.content,
  }));
}

function searchRequest(
  threadId: string,
  _userId: string,
  query: string,
  limit: number,
): SearchRequest {
  // Only the thread's own session: a user_id would widen the search to the user's other threads.
  return {
    path: `${PREFIX}/sessions/search`,
    query: { limit },
    body: { text: query, session_ids: [threadId] },
  };
}

function parseSearch(text: string): MemoryHit[] | null {
  const response = parseJsonWith(V2SearchResponse, text);
  if (response === null) return null;
  const hits: MemoryHit[] = [];
  for (const r of response.results ?? []) {
    const score = r.score ?? r.fact?.rating ?? null;
    if (r.message !== undefined && r.message !== null) {
      const role = r.message.role ?? r.message.role_type ?? null;
      hits.push({
        kind: 'message',
        uuid: r.message.uuid ?? null,
        role,
        content: r.message.content,
        score,
      });
    } else if (r.fact !== undefined && r.fact !== null) {
      hits.push({
        kind: 'fact',
        uuid: r.fact.uuid ?? null,
        role: null,
        content: r.fact.fact,
        score,
      });
    }
  }
  return hits;
}

/** The v2 dialect: pinned routes and mapping for Zep CE 1.0.x and Cloud (sessions API). */
export const zepV2: ZepDialect = {
  version: 'v2',
  prefix: PREFIX,
  routes: sessionRoutes(PREFIX, `${PREFIX}/users`),
  threadBody: sessionBody,
  probe: { path: `${PREFIX}/users-ordered`, query: { pageNumber: 1, pageSize: 1 } },
  maxWireMessagesPerRequest: V2_MAX_MESSAGES,
  toWire,
  parseMemory,
  searchRequest,
  parseSearch,
  parseProbe: (text) => parseJsonWith(V2UsersPage, text) !== null,
};
