/**
 * @module A scriptable assistant for tests: a Bun.serve on 127.0.0.1 that verifies EVERY request
 * with the `standardwebhooks` library (a bad signature gets 401 and is recorded), records each
 * request (headers, body, arrival, whether and when the client went away) and answers in the mode
 * set: an AI SDK UI message stream, text/plain, JSON, 204, 202, any status with Retry-After, a
 * stall after K chunks, down (the listener closed: connection refused), or too large.
 */
import type { Server } from 'bun';
import { Webhook } from 'standardwebhooks';

/** One request as the backend saw it. */
export interface RecordedRequest {
  headers: Record<string, string>;
  /** The raw body text (what was signed). */
  raw: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: unknown;
  /** True when `Webhook.verify` accepted the signature. */
  verified: boolean;
  /** `performance.now()` at arrival. */
  arrivedAt: number;
  /** True once the client went away before the answer ended (`request.signal`). */
  aborted: boolean;
  /** `performance.now()` when the client went away. */
  abortedAt?: number;
  /** Resolves when the client goes away (never, if it does not). */
  abortedPromise: Promise<void>;
}

/** How the backend answers the next requests. */
export type BackendMode =
  | {
      kind: 'sse';
      text: string;
      deltas?: number;
      delayMs?: number;
      end?: 'finish' | 'done' | 'eof';
    }
  | { kind: 'sse-parts'; parts: unknown[]; delayMs?: number }
  | { kind: 'text'; text: string; chunks?: number; delayMs?: number; contentType?: string }
  | { kind: 'json'; content: string; metadata?: Record<string, unknown> }
  | { kind: 'empty' }
  | { kind: 'deferred' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Sends `chunks` of `text` (the stream split in `chunks + 1`), then nothing until the client leaves. */
  | { kind: 'stall'; chunks: number; text: string; format?: 'sse' | 'text' }
  /** Holds the response headers until the client leaves. */
  | { kind: 'no-headers' }
  /** The listener is closed: connections are refused until another mode is set. */
  | { kind: 'down' }
  /** An SSE stream of `bytes` bytes of text in 1 KiB deltas. */
  | { kind: 'too-large'; bytes: number }
  /** Raw body chunks, written as given (for split-boundary tests). */
  | { kind: 'raw'; contentType: string; chunks: Array<string | Uint8Array>; delayMs?: number };

/** Answers a request itself; return undefined to fall back to the mode. */
export type BackendHandler = (
  recorded: RecordedRequest,
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

/** A running test assistant. */
export interface AssistantBackend {
  url: string;
  readonly requests: RecordedRequest[];
  /** Signatures that failed verification (each answered 401). */
  readonly rejected: RecordedRequest[];
  setMode(mode: BackendMode): Promise<void>;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `text` cut into `n` pieces (by code point, so no character is split), their concatenation `text`. */
export function splitText(text: string, n: number): string[] {
  const chars = [...text];
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, n)));
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}

/** The UI message stream parts of a reply made of `deltas`, as the AI SDK writes them. */
export function uiParts(deltas: string[]): unknown[] {
  return [
    { type: 'start' },
    { type: 'start-step' },
    { type: 'text-start', id: 't1' },
    ...deltas.map((delta) => ({ type: 'text-delta', id: 't1', delta })),
    { type: 'text-end', id: 't1' },
    { type: 'finish-step' },
    { type: 'finish' },
  ];
}

/** One SSE event of `part`. */
export function sseEvent(part: unknown): string {
  return `data: ${JSON.stringify(part)}\n\n`;
}

/** A body that writes `chunks` with `delayMs` between them, ending early when `aborted` fires. */
function paced(
  chunks: Array<string | Uint8Array>,
  delayMs: number,
  abort: AbortSignal,
  hangAtEnd = false,
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (abort.aborted) return controller.close();
      if (index >= chunks.length) {
        if (!hangAtEnd) return controller.close();
        await new Promise((resolve) => abort.addEventListener('abort', resolve, { once: true }));
        return controller.close();
      }
      if (index > 0 && delayMs > 0) await sleep(delayMs);
      const chunk = chunks[index++]!;
      controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
  });
}

function sseChunks(mode: Extract<BackendMode, { kind: 'sse' }>): string[] {
  const parts = uiParts(splitText(mode.text, mode.deltas ?? 5));
  const end = mode.end ?? 'done';
  const events = (end === 'eof' ? parts.slice(0, -1) : parts).map(sseEvent);
  if (end === 'done') events.push('data: [DONE]\n\n');
  return events;
}

/** The response of `mode` to a verified request. */
function answer(mode: BackendMode, abort: AbortSignal): Response | Promise<Response> {
  const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  switch (mode.kind) {
    case 'sse':
      return new Response(paced(sseChunks(mode), mode.delayMs ?? 0, abort), { headers: sse });
    case 'sse-parts':
      return new Response(paced(mode.parts.map(sseEvent), mode.delayMs ?? 0, abort), {
        headers: sse,
      });
    case 'text': {
      const body = paced(splitText(mode.text, mode.chunks ?? 3), mode.delayMs ?? 0, abort);
      return new Response(body, {
        headers: { 'content-type': mode.contentType ?? 'text/plain; charset=utf-8' },
      });
    }
    case 'json':
      return Response.json({ content: mode.content, metadata: mode.metadata });
    case 'empty':
      return new Response(null, { status: 204 });
    case 'deferred':
      return new Response(null, { status: 202 });
    case 'status': {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (mode.retryAfter !== undefined) headers['retry-after'] = mode.retryAfter;
      return new Response(mode.body ?? `status ${mode.status}`, { status: mode.status, headers });
    }
    case 'stall': {
      const pieces = splitText(mode.text, mode.chunks + 1).slice(0, mode.chunks);
      const chunks =
        mode.format === 'text'
          ? pieces
          : pieces.map((delta) => sseEvent({ type: 'text-delta', id: 't1', delta }));
      const type = mode.format === 'text' ? 'text/plain' : 'text/event-stream';
      return new Response(paced(chunks, 0, abort, true), { headers: { 'content-type': type } });
    }
    case 'no-headers':
      return new Promise<Response>((resolve) =>
        abort.addEventListener('abort', () => resolve(new Response(null, { status: 204 })), {
          once: true,
        }),
      );
    case 'too-large': {
      const deltas = splitText('x'.repeat(mode.bytes), Math.ceil(mode.bytes / 1024));
      return new Response(paced(uiParts(deltas).map(sseEvent), 0, abort), { headers: sse });
    }
    case 'raw':
      return new Response(paced(mode.chunks, mode.delayMs ?? 0, abort), {
        headers: { 'content-type': mode.contentType },
      });
    case 'down':
      return new Response('down', { status: 503 });
  }
}

function record(request: Request, raw: string, verified: boolean): RecordedRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const recorded: RecordedRequest = {
    headers,
    raw,
    body,
    verified,
    arrivedAt: performance.now(),
    aborted: false,
    abortedPromise: Promise.resolve(),
  };
  recorded.abortedPromise = new Promise<void>((resolve) => {
    const onAbort = () => {
      recorded.aborted = true;
      recorded.abortedAt = performance.now();
      resolve();
    };
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
  });
  return recorded;
}

/** Starts a test assistant that checks every signature against `secret`. */
export async function startAssistantBackend(
  secret: string,
  handler?: BackendHandler,
): Promise<AssistantBackend> {
  const webhook = new Webhook(secret);
  const requests: RecordedRequest[] = [];
  const rejected: RecordedRequest[] = [];
  let mode: BackendMode = { kind: 'sse', text: 'Hello from the test assistant.' };
  const fetchHandler = async (request: Request): Promise<Response> => {
    const raw = await request.text();
    let verified = true;
    try {
      webhook.verify(raw, Object.fromEntries(request.headers));
    } catch {
      verified = false;
    }
    const recorded = record(request, raw, verified);
    requests.push(recorded);
    if (!verified) {
      rejected.push(recorded);
      return new Response('bad signature', { status: 401 });
    }
    const own = await handler?.(recorded, request);
    return own ?? answer(mode, request.signal);
  };
  const listen = (port: number): Server<undefined> =>
    Bun.serve({ hostname: '127.0.0.1', port, idleTimeout: 0, fetch: fetchHandler });
  let server: Server<undefined> | undefined = listen(0);
  const port = server.port!;
  return {
    url: `http://127.0.0.1:${port}/assistant`,
    requests,
    rejected,
    async setMode(next) {
      mode = next;
      if (next.kind === 'down' && server !== undefined) {
        await server.stop(true);
        server = undefined;
      } else if (next.kind !== 'down' && server === undefined) {
        server = listen(port);
      }
    },
    async stop() {
      await server?.stop(true);
      server = undefined;
    },
  };
}
