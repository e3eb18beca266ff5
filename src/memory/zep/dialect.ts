/**
 * @module What differs between Zep API versions, as one interface: each pinned version file
 * (`v1.ts`, `v2.ts`) supplies its prefix, routes and mapping, and the backend builds every
 * URL from that dialect alone, so a client can never wander onto the other version's prefix.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { MemoryHit, MemoryMessage, MemoryRecord } from '../client.ts';

/** A search call in one version's terms. */
export interface SearchRequest {
  path: string;
  query: Record<string, string | number>;
  body: unknown;
}

/** One pinned Zep API version. */
export interface ZepDialect {
  version: 'v1' | 'v2';
  /** `/api/v1` or `/api/v2`; every path starts with it. */
  prefix: string;
  /** The users collection (`/user` on v1, `/users` on v2: docs/zep.md#version-pitfalls item 2). */
  usersPath: string;
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
}

/**
 * Parses JSON and checks it against a compiled schema; null on either failure
 * (docs/design.md#bad-answer-bodies).
 */
export function parseJsonWith<T extends TSchema>(
  check: TypeCheck<T>,
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

/** Zep metadata must be an object: plain objects go as they are, other values are wrapped. */
export function wireMetadata(metadata: unknown): Record<string, unknown> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata === 'object' && !Array.isArray(metadata)) {
    return metadata as Record<string, unknown>;
  }
  return { value: metadata };
}
