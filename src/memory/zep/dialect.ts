/**
 * @module What differs between Zep API versions, as one interface: each pinned version file
 * (`v1.ts`, `v2.ts`, `v3.ts`) supplies its prefix, routes and mapping, and the backend builds every
 * URL from that dialect alone, so a client can never wander onto another version's routes.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import type { MemoryHit, MemoryMessage, MemoryRecord } from '../client.ts';

/** A search call in one version's terms. */
export interface SearchRequest {
  path: string;
  query: Record<string, string | number>;
  body: unknown;
}

/** The pinned API versions (docs/config.md, "Which version do I pin?"). */
export type ZepApiVersion = 'v1' | 'v2' | 'v3';

/** Every route a backend calls, built from the dialect's prefix only. */
export interface ZepRoutes {
  /** The users collection (`/user` on v1, `/users` on v2 and v3). */
  users: string;
  /** Where a session (v1, v2) or thread (v3) is created. */
  threads: string;
  addMessages(threadId: string): string;
  recentMessages(threadId: string): string;
  deleteThread(threadId: string): string;
  /** The prompt-ready user context of a thread; only v3 has one. */
  context?: (threadId: string) => string;
}

/** One pinned Zep API version. */
export interface ZepDialect {
  version: ZepApiVersion;
  /** `/api/v1` or `/api/v2` (v2 and v3 share it); every path starts with it. */
  prefix: string;
  routes: ZepRoutes;
  /** The create-session (v1, v2) or create-thread (v3) body. */
  threadBody(threadId: string, userId: string): unknown;
  /** The cheap authenticated probe of docs/zep.md#operations. */
  probe: { path: string; query: Record<string, string | number> };
  /** Most wire messages one add-memory request may carry (v2 CE: 30). */
  maxWireMessagesPerRequest: number;
  /** Messages as the version's add-memory body expects them. */
  toWire(messages: MemoryMessage[]): unknown[];
  /** Parses a get-memory body; null when it is not the expected shape. */
  parseMemory(text: string): MemoryRecord[] | null;
  searchRequest(threadId: string, userId: string, query: string, limit: number): SearchRequest;
  /** Parses a search body; null when it is not the expected shape. */
  parseSearch(text: string): MemoryHit[] | null;
  /** True when the probe's body has the expected shape. */
  parseProbe(text: string): boolean;
  /** Parses a user-context body; null when it is not the expected shape (v3 only). */
  parseContext?: (text: string) => string | null;
}

/** Routes of the sessions API (v1 and v2): everything under `<prefix>/sessions/{id}`. */
export function sessionRoutes(prefix: string, users: string): ZepRoutes {
  const session = (id: string) => `${prefix}/sessions/${encodeURIComponent(id)}`;
  return {
    users,
    threads: `${prefix}/sessions`,
    addMessages: (id) => `${session(id)}/memory`,
    recentMessages: (id) => `${session(id)}/memory`,
    deleteThread: (id) => `${session(id)}/memory`,
  };
}

/** The sessions API's create body. */
export function sessionBody(threadId: string, userId: string): unknown {
  return { session_id: threadId, user_id: userId };
}

/**
 * Parses JSON and checks it against a compiled schema; null on either failure
 * (docs/design.md#bad-answer-bodies).
 */
export function parseJsonWith<T extends TSchema>(
  check: Pick<TypeCheck<T>, 'Check'>,
  text: string,
): Static<T> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Malformed, truncated or too deeply nested for the parser: all the same to a reader.
    return null;
  }
  return check.Check(value) ? value : null;
}

/**
 * A TypeBox check compiled on its first use: the three dialects' answer shapes are compiled only
 * for the Zep version in use, and not at all with the local backend, instead of at startup
 * (docs/benchmarks.md, Startup).
 */
export function compiledOnUse<T extends TSchema>(schema: T): Pick<TypeCheck<T>, 'Check'> {
  let compiled: TypeCheck<T> | undefined;
  const check = (value: unknown): value is Static<T> => {
    compiled ??= TypeCompiler.Compile(schema);
    return compiled.Check(value);
  };
  return { Check: check };
}

/** Zep metadata must be an object: plain objects go as they are, other values are wrapped. */
export function wireMetadata(metadata: unknown): Record<string, unknown> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata === 'object' && !Array.isArray(metadata)) {
    return metadata as Record<string, unknown>;
  }
  return { value: metadata };
}
