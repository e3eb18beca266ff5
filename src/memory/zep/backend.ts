/**
 * @module The Zep backend: one class over a pinned {@link ZepDialect}. It creates the user and
 * session (v3: thread) on first use and caches that they exist (docs/design.md#memory); a 404 on
 * add (stale cache, deleted session) drops the cache entry, creates again and retries once. Every
 * URL comes from the dialect, so another version's routes are never built
 * (docs/design.md#wrong-api-version, docs/zep.md#version-pitfalls). Writes are paced by the
 * rate-limit headers (docs/decisions.md, "Zep v3 rate limits").
 */
import { isBlank } from '../../lib/text.ts';
import type {
  MemoryBackend,
  MemoryHit,
  MemoryMessage,
  MemoryOutcome,
  MemoryRecord,
} from '../client.ts';
import { answer, failure, rejected } from '../client.ts';
import { checkMessageList } from '../guards.ts';
import { classifyStatus, isAlreadyExists, type StatusClass } from './classify.ts';
import type { ZepApiVersion, ZepDialect } from './dialect.ts';
import { type HttpResult, type RequestOptions, ZepHttp } from './http.ts';
import { WritePacer } from './pacing.ts';
import { zepV1 } from './v1.ts';
import { zepV2 } from './v2.ts';
import { zepV3 } from './v3.ts';

/** Options for {@link createZepBackend} (memory.zep.*, memory.timeout_ms, outbox.batch_size). */
interface ZepBackendOptions {
  baseUrl: string;
  apiVersion: ZepApiVersion;
  /** v1: sent as `Bearer <key>` only when set; v2 and v3: sent as `Api-Key <key>`. */
  apiKey?: string;
  timeoutMs: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Wall clock for Retry-After dates; defaults to Date.now. */
  wallMs?: () => number;
  /** Most cached "exists" entries per kind (users, sessions). */
  maxCachedIds?: number;
  /** v3: longest content per wire message, in characters (memory.zep.max_message_chars). */
  maxMessageChars?: number;
}

/** Largest outbox batch handed to one add call when the version has no cap of its own. */
const DEFAULT_MAX_BATCH = 1000;
const DEFAULT_MAX_CACHED_IDS = 10_000;

/** A transport result classified, with the body kept for 2xx parsing. */
type Classified = { cls: StatusClass; text: string; status: number };

/** Builds the backend for the pinned version. */
export function createZepBackend(options: ZepBackendOptions): ZepBackend {
  const dialect =
    options.apiVersion === 'v1'
      ? zepV1
      : options.apiVersion === 'v2'
        ? zepV2
        : zepV3(options.maxMessageChars);
  const authorization = authorizationFor(options.apiVersion, options.apiKey);
  const http = new ZepHttp({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    authorization,
    fetch: options.fetch,
  });
  return new ZepBackend(dialect, http, options.wallMs ?? Date.now, options.maxCachedIds);
}

/**
 * v1: Bearer only when a key is configured; v2 and v3: always Api-Key (docs/zep.md#versions,
 * #version-pitfalls item 5).
 */
function authorizationFor(version: ZepApiVersion, apiKey: string | undefined): string | undefined {
  if (version === 'v1')
    return apiKey === undefined || apiKey === '' ? undefined : `Bearer ${apiKey}`;
  return `Api-Key ${apiKey ?? ''}`;
}

/** A small insertion-ordered set that forgets its oldest entry past `max`. */
class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly max: number) {}
  has(key: string): boolean {
    return this.items.has(key);
  }
  add(key: string): void {
    this.items.add(key);
    if (this.items.size > this.max) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }
  delete(key: string): void {
    this.items.delete(key);
  }
}

/** The Zep memory backend over one pinned API version. */
export class ZepBackend implements MemoryBackend {
  readonly name = 'zep' as const;
  readonly maxBatchMessages: number;
  private readonly users: BoundedSet;
  private readonly sessions: BoundedSet;
  private readonly pacer: WritePacer;

  constructor(
    readonly dialect: ZepDialect,
    readonly http: ZepHttp,
    private readonly wallMs: () => number = Date.now,
    maxCachedIds: number = DEFAULT_MAX_CACHED_IDS,
  ) {
    this.maxBatchMessages = Math.min(DEFAULT_MAX_BATCH, dialect.maxWireMessagesPerRequest);
    this.users = new BoundedSet(maxCachedIds);
    this.sessions = new BoundedSet(maxCachedIds);
    this.pacer = new WritePacer(wallMs);
  }

  /** How long the outbox should wait before its next write (rate-limit pacing); 0 = go. */
  writePauseMs(): number {
    return this.pacer.pauseMs();
  }

  /** The per-request timeout in ms. */
  get timeoutMs(): number {
    return this.http.timeoutMs;
  }

  setTimeoutMs(timeoutMs: number): void {
    this.http.setTimeoutMs(timeoutMs);
  }

  async addMessages(
    threadId: string,
    userId: string,
    messages: MemoryMessage[],
  ): Promise<MemoryOutcome<void>> {
    const problem = checkMessageList(messages, Number.POSITIVE_INFINITY);
    if (problem !== null) return rejected(0, `${problem.code}: ${problem.message}`);
    const wire = this.dialect.toWire(messages);
    let outcome = await this.addWire(threadId, userId, wire);
    if (outcome === 'not_found') {
      // A stale cache entry or a session deleted meanwhile: create again, then retry once.
      this.sessions.delete(threadId);
      outcome = await this.addWire(threadId, userId, wire);
    }
    return outcome === 'not_found' ? rejected(404, 'session not found after creating it') : outcome;
  }

  async recentMessages(threadId: string, limit: number): Promise<MemoryOutcome<MemoryRecord[]>> {
    if (limit <= 0) return answer([]);
    const path = this.dialect.routes.recentMessages(threadId);
    const { cls, text } = await this.send('GET', path, { query: { lastn: limit } });
    // v0.19 and older, and Cloud, answer 404 for a session without memory
    // (docs/zep.md#status-codes).
    if (cls.kind === 'not_found') return answer([]);
    if (cls.kind !== 'ok') return cls;
    const records = this.dialect.parseMemory(text);
    return records === null
      ? failure('bad_body', 'get-memory body has the wrong shape')
      : answer(records);
  }

  async search(
    threadId: string,
    userId: string,
    query: string,
    limit: number,
  ): Promise<MemoryOutcome<MemoryHit[]>> {
    // v1 answers a blank query with 500 "empty query", which would count against the breaker.
    if (isBlank(query) || limit <= 0) return answer([]);
    const request = this.dialect.searchRequest(threadId, userId, query, limit);
    const { cls, text } = await this.send('POST', request.path, {
      query: request.query,
      body: request.body,
    });
    if (cls.kind === 'not_found') return answer([]);
    if (cls.kind !== 'ok') return cls;
    const hits = this.dialect.parseSearch(text);
    return hits === null
      ? failure('bad_body', 'search body has the wrong shape')
      : answer(hits.slice(0, limit));
  }

  async deleteThread(threadId: string): Promise<MemoryOutcome<void>> {
    const { cls } = await this.send('DELETE', this.dialect.routes.deleteThread(threadId));
    this.sessions.delete(threadId);
    // A 404 on delete is success (docs/zep.md#status-codes).
    if (cls.kind === 'ok' || cls.kind === 'not_found') return answer(undefined);
    return cls;
  }

  async health(signal?: AbortSignal): Promise<MemoryOutcome<void>> {
    const { path, query } = this.dialect.probe;
    const { cls, text } = await this.send('GET', path, { query, signal });
    if (cls.kind === 'not_found')
      return rejected(404, 'probe route answered 404 with a resource body');
    if (cls.kind !== 'ok') return cls;
    return this.dialect.parseProbe(text)
      ? answer(undefined)
      : failure('bad_body', 'probe body has the wrong shape');
  }

  /** `GET /healthz`: reachability only, no auth, same on every version (docs/zep.md#health). */
  async healthz(signal?: AbortSignal): Promise<HttpResult> {
    return this.http.request('GET', '/healthz', { signal });
  }

  /**
   * The prompt-ready user context of a thread (v3 only); null when the version has none. A
   * missing thread has no context yet: ''.
   */
  async context(_userId: string, threadId: string): Promise<MemoryOutcome<string | null>> {
    const route = this.dialect.routes.context;
    const parse = this.dialect.parseContext;
    if (route === undefined || parse === undefined) return answer(null);
    const { cls, text } = await this.send('GET', route(threadId));
    if (cls.kind === 'not_found') return answer('');
    if (cls.kind !== 'ok') return cls;
    const context = parse(text);
    return context === null
      ? failure('bad_body', 'user-context body has the wrong shape')
      : answer(context);
  }

  /** Ensures the session, then posts the wire messages in chunks the version accepts. */
  private async addWire(
    threadId: string,
    userId: string,
    wire: unknown[],
  ): Promise<MemoryOutcome<void> | 'not_found'> {
    if (!this.sessions.has(threadId)) {
      const ensured = await this.ensureSession(threadId, userId);
      if (ensured.kind !== 'answer') return ensured;
    }
    const size = this.dialect.maxWireMessagesPerRequest;
    for (let start = 0; start < wire.length; start += size) {
      const body = { messages: wire.slice(start, start + size) };
      const { cls } = await this.send('POST', this.dialect.routes.addMessages(threadId), { body });
      if (cls.kind === 'not_found') return 'not_found';
      // docs/design.md#bad-answer-bodies: any 2xx is a success for a write, whatever its body.
      if (cls.kind !== 'ok') return cls;
    }
    return answer(undefined);
  }

  /** Creates the user (once per process) and the session; "already exists" counts as created. */
  private async ensureSession(threadId: string, userId: string): Promise<MemoryOutcome<void>> {
    if (!this.users.has(userId)) {
      const user = await this.create(this.dialect.routes.users, { user_id: userId });
      if (user.kind !== 'answer') return user;
      this.users.add(userId);
    }
    const session = await this.create(
      this.dialect.routes.threads,
      this.dialect.threadBody(threadId, userId),
    );
    if (session.kind !== 'answer') return session;
    // Even a soft-deleted session answers "already exists"; adding messages revives it
    // (docs/zep.md#status-codes).
    this.sessions.add(threadId);
    return answer(undefined);
  }

  private async create(path: string, body: unknown): Promise<MemoryOutcome<void>> {
    const result = await this.send('POST', path, { body });
    if (result.cls.kind === 'ok') return answer(undefined);
    if (isAlreadyExists({ status: result.status, retryAfter: null, text: result.text }))
      return answer(undefined);
    if (result.cls.kind === 'not_found') return rejected(404, `create answered 404 at ${path}`);
    return result.cls;
  }

  private async send(
    method: string,
    path: string,
    extras: RequestOptions = {},
  ): Promise<Classified> {
    const result = await this.http.request(method, path, extras);
    if (result.kind !== 'response') return { cls: result, text: '', status: 0 };
    const { response } = result;
    this.pacer.observe(response.rateLimit);
    return {
      cls: classifyStatus(response, this.wallMs()),
      text: response.text,
      status: response.status,
    };
  }
}
