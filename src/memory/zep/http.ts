/**
 * @module The HTTP transport under the Zep backends. One rule above all: every request is bounded
 * by `memory.timeout_ms` from the first byte sent to the LAST byte of the body (docs/faults.md#m1,
 * #m16), and an aborted request closes its socket. Bodies are streamed and capped at 1 MiB
 * (docs/design.md#bad-answer-bodies). Network errors, timeouts and oversize bodies come back as
 * {@link Failure} values, never throws.
 */
import { describeError } from '../../lib/errors.ts';
import type { Failure } from '../client.ts';
import { failure } from '../client.ts';
import type { HttpResponse } from './classify.ts';

/**
 * Largest response body read, in bytes (docs/design.md#bad-answer-bodies). A longer body is dropped
 * (read as '') and its connection aborted; the status still counts.
 */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Options for {@link ZepHttp}. */
interface ZepHttpOptions {
  /** e.g. `http://zep:8000`; a trailing slash is ignored. */
  baseUrl: string;
  /** Per request, covering the whole body (memory.timeout_ms). */
  timeoutMs: number;
  /** The full Authorization header value, or undefined to send none. */
  authorization?: string;
  maxBodyBytes?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** What one request produced: a complete response, or a failure of the transport. */
export type HttpResult = { kind: 'response'; response: HttpResponse } | Failure;

/** Per-call extras. */
export interface RequestOptions {
  query?: Record<string, string | number>;
  /** Sent as JSON. */
  body?: unknown;
  /** Aborts the call early (preflight's own time limit). */
  signal?: AbortSignal;
}

class BodyTooLarge extends Error {}

/** A small fetch wrapper bound to one base URL, timeout and credential. */
export class ZepHttp {
  private readonly baseUrl: string;
  private timeoutMsValue: number;
  private readonly authorization: string | undefined;
  private readonly maxBodyBytes: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: ZepHttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMsValue = options.timeoutMs;
    this.authorization = options.authorization;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_RESPONSE_BYTES;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** The base URL requests go to (for messages; carries no secret). */
  get url(): string {
    return this.baseUrl;
  }

  /** The per-request timeout in ms. */
  get timeoutMs(): number {
    return this.timeoutMsValue;
  }

  /** Changes the timeout for requests started from now on. */
  setTimeoutMs(timeoutMs: number): void {
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    this.timeoutMsValue = timeoutMs;
  }

  /** Sends one request; `path` must start with `/` and carry the pinned prefix. */
  async request(method: string, path: string, extras: RequestOptions = {}): Promise<HttpResult> {
    const timeout = AbortSignal.timeout(this.timeoutMsValue);
    const cancel = new AbortController();
    const signals = [timeout, cancel.signal];
    if (extras.signal !== undefined) signals.push(extras.signal);
    const signal = AbortSignal.any(signals);
    try {
      const response = await this.fetchFn(this.urlOf(path, extras.query), {
        method,
        headers: this.headersOf(extras.body !== undefined),
        body: extras.body === undefined ? undefined : JSON.stringify(extras.body),
        signal,
        redirect: 'manual',
      });
      const retryAfter = response.headers.get('retry-after');
      const rateLimit = {
        limit: response.headers.get('x-ratelimit-limit'),
        remaining: response.headers.get('x-ratelimit-remaining'),
        reset: response.headers.get('x-ratelimit-reset'),
      };
      const text = await readCapped(response, this.maxBodyBytes, signal).catch((error: unknown) => {
        if (!(error instanceof BodyTooLarge)) throw error;
        // The status still counts (a 2xx write succeeded, docs/design.md#bad-answer-bodies); no
        // reader accepts ''.
        cancel.abort();
        return '';
      });
      const zepVersion = response.headers.get('x-zep-version');
      return {
        kind: 'response',
        response: { status: response.status, retryAfter, text, rateLimit, zepVersion },
      };
    } catch (error) {
      // Abort whatever is left so the socket is closed rather than parked in the pool.
      cancel.abort();
      if (timeout.aborted)
        return failure('timeout', `no complete answer within ${this.timeoutMsValue} ms`);
      if (extras.signal?.aborted === true) return failure('timeout', 'cancelled by the caller');
      return failure('network', networkDetail(error));
    }
  }

  private urlOf(path: string, query: RequestOptions['query']): string {
    if (query === undefined || Object.keys(query).length === 0) return `${this.baseUrl}${path}`;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) params.set(key, String(value));
    return `${this.baseUrl}${path}?${params.toString()}`;
  }

  private headersOf(hasBody: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'lifeline',
    };
    if (hasBody) headers['content-type'] = 'application/json';
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    return headers;
  }
}

/**
 * Reads the body as UTF-8 text, stopping with {@link BodyTooLarge} past `maxBytes`. Each read is
 * raced against the abort signal, so a slow drip cannot outlive the timeout even if the runtime
 * were slow to propagate the abort into the stream.
 */
async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw new BodyTooLarge();
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** A short description of a network error: its code when the runtime gives one. */
function networkDetail(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = describeError(error);
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}
