/**
 * @module The memory backend interface (docs/design.md#memory) and its outcome values. Every
 * backend call resolves to a classified outcome instead of throwing (cockatiel's executor style),
 * so the breaker, the outbox and the read path decide from one value what happened.
 */

/**
 * One message handed to a backend: the stored lifeline message, byte for byte
 * (docs/design.md#content-rules).
 */
export interface MemoryMessage {
  /** The stable lifeline UUID; sent as Zep's `uuid` so a redelivery is deduplicated. */
  uuid: string;
  role: string;
  content: string;
  /** Whatever the client stored; sent as Zep metadata when it is a plain object. */
  metadata?: unknown;
}

/** A message read back from a backend. */
export interface MemoryRecord {
  uuid: string | null;
  role: string;
  content: string;
}

/** A search hit; Zep CE answers facts rather than messages, so `kind` says which. */
export interface MemoryHit {
  kind: 'message' | 'fact';
  uuid: string | null;
  role: string | null;
  content: string;
  /** Higher is better; null when the backend gave none. */
  score: number | null;
}

/** Ways a call can fail that count against the service (docs/design.md#breaker). */
type FailureKind = 'timeout' | 'network' | 'http_5xx' | 'http_429' | 'bad_body' | 'storage';

/**
 * Ways a call can show that the configuration is wrong (docs/design.md#wrong-api-version,
 * docs/zep.md#client-notes).
 */
type MisconfiguredKind = 'route_404' | 'unauthorized' | 'redirect';

/** The service answered; `value` is the operation's result. */
interface Answer<T> {
  kind: 'answer';
  value: T;
}

/** A failure of the service: counts toward opening the circuit. */
export interface Failure {
  kind: 'failure';
  failure: FailureKind;
  /** HTTP status, when there was one. */
  status?: number;
  /** Parsed Retry-After of a 429, in ms (uncapped; the breaker caps it). */
  retryAfterMs?: number;
  /** One line for logs; never user content or secrets. */
  detail: string;
}

/** The pinned version, base URL or credentials are wrong: opens the circuit at once. */
export interface Misconfigured {
  kind: 'misconfigured';
  reason: MisconfiguredKind;
  status: number;
  detail: string;
  /** For a route-404: an HTML page (Zep 0.x's web UI) or the Go router's plain-text body. */
  routeBody?: 'html' | 'router';
}

/** The service refused this input as invalid (4xx other than 404/408/429): never retried. */
export interface Rejected {
  kind: 'rejected';
  status: number;
  /** Why, from the response body (trimmed) or the local guard. */
  reason: string;
}

/** What a backend call resolves to. */
export type MemoryOutcome<T> = Answer<T> | Failure | Misconfigured | Rejected;

/** The interface both backends implement (docs/design.md#memory). */
export interface MemoryBackend {
  /** `local` or `zep`; labels metrics and names the persisted breaker row. */
  readonly name: 'local' | 'zep';
  /** Most messages one `addMessages` call should carry (Zep v2 CE takes 30 per request). */
  readonly maxBatchMessages: number;
  /**
   * True when committing a message to the log already delivers it (the local backend's FTS5
   * trigger indexes it in the same transaction), so the outbox has nothing to send.
   */
  readonly deliversAtCommit?: boolean;
  /** Stores messages for a thread, creating the user and session on first use. */
  addMessages(
    threadId: string,
    userId: string,
    messages: MemoryMessage[],
  ): Promise<MemoryOutcome<void>>;
  /** The last `limit` messages of a thread, oldest first; a missing thread is `[]`. */
  recentMessages(threadId: string, limit: number): Promise<MemoryOutcome<MemoryRecord[]>>;
  /** Hits for `query` in a thread, best first; a blank query is `[]` without a request. */
  search(
    threadId: string,
    userId: string,
    query: string,
    limit: number,
  ): Promise<MemoryOutcome<MemoryHit[]>>;
  /** Forgets a thread's memory; a thread that does not exist counts as deleted. */
  deleteThread(threadId: string): Promise<MemoryOutcome<void>>;
  /**
   * A prompt-ready block of what the service knows about the user, for a thread (Zep v3's user
   * context); resolves to null when the backend keeps none. Absent on backends without one.
   */
  context?(userId: string, threadId: string): Promise<MemoryOutcome<string | null>>;
  /**
   * How long the outbox should hold its next write, in ms, because the service's rate limit is
   * nearly spent (0 or absent: no pause). Reads are never held.
   */
  writePauseMs?(): number;
  /** One cheap authenticated call that proves the service answers on the pinned version. */
  health(): Promise<MemoryOutcome<void>>;
  /** The per-request timeout in ms (memory.timeout_ms), when calls leave the process. */
  readonly timeoutMs?: number;
  /** Changes the per-request timeout live (memory.timeout_ms is tunable). */
  setTimeoutMs(timeoutMs: number): void;
}

/** Builds an answer. */
export function answer<T>(value: T): Answer<T> {
  return { kind: 'answer', value };
}

/** Builds a failure. */
export function failure(kind: FailureKind, detail: string, extra: Partial<Failure> = {}): Failure {
  return { kind: 'failure', failure: kind, detail, ...extra };
}

/** Builds a rejection. */
export function rejected(status: number, reason: string): Rejected {
  return { kind: 'rejected', status, reason };
}
