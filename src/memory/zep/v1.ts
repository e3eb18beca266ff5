/**
 * @module Zep API v1 (open-source 0.x), pinned: routes under `/api/v1` only, `role` without
 * `role_type`, plain-text `OK` on writes, bare-array search results (docs/zep.md#operations,
 * #shapes, #status-codes). Nothing in this file names another version's prefix.
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

const V1Message = Type.Object({
  uuid: Type.Optional(Type.String()),
  role: Type.String(),
  content: Type.String(),
});

const V1Memory = compiledOnUse(
  Type.Object({ messages: Type.Union([Type.Array(V1Message), Type.Null()]) }),
);

const V1SearchResults = compiledOnUse(
  Type.Array(
    Type.Object({
      message: Type.Optional(Type.Union([V1Message, Type.Null()])),
      dist: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    }),
  ),
);

const V1UserList = compiledOnUse(Type.Array(Type.Unknown()));

const PREFIX = '/api/v1';

function toWire(messages: MemoryMessage[]): unknown[] {
  return messages.map((m) => {
    const metadata = wireMetadata(m.metadata);
    return metadata === undefined
      ? { uuid: m.uuid, role: m.role, content: m.content }
      : { uuid: m.uuid, role: m.role, content: m.content, metadata };
  });
}

function parseMemory(text: string): MemoryRecord[] | null {
  const memory = parseJsonWith(V1Memory, text);
  if (memory === null) return null;
  return (memory.messages ?? []).map((m) => ({
    uuid: m.uuid ?? null,
    role: m.role,
    content: m.content,
  }));
}

function searchRequest(
  threadId: string,
  _userId: string,
  query: string,
  limit: number,
): SearchRequest {
  return {
    path: `${PREFIX}/sessions/${encodeURIComponent(threadId)}/search`,
    query: { limit },
    body: { text: query },
  };
}

function parseSearch(text: string): MemoryHit[] | null {
  const results = parseJsonWith(V1SearchResults, text);
  if (results === null) return null;
  const hits: MemoryHit[] = [];
  for (const r of results) {
    if (r.message === undefined || r.message === null) continue;
    const { uuid, role, content } = r.message;
    hits.push({ kind: 'message', uuid: uuid ?? null, role, content, score: r.dist ?? null });
  }
  return hits;
}

/** The v1 dialect: pinned routes and mapping for Zep 0.x. */
export const zepV1: ZepDialect = {
  version: 'v1',
  prefix: PREFIX,
  routes: sessionRoutes(PREFIX, `${PREFIX}/user`),
  threadBody: sessionBody,
  probe: { path: `${PREFIX}/user`, query: { limit: 1 } },
  // v0.x has no per-request message cap; the outbox batch size decides.
  maxWireMessagesPerRequest: Number.POSITIVE_INFINITY,
  toWire,
  parseMemory,
  searchRequest,
  parseSearch,
  parseProbe: (text) => parseJsonWith(V1UserList, text) !== null,
};
