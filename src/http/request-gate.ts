/**
 * @module The request gate: what every HTTP request must satisfy before a route sees it, checked
 * from the request line and headers alone, so nothing is read or parsed for a request that is
 * refused (docs/protocol.md, "HTTP API: refusals"; docs/decisions.md, "Request gate").
 *
 * Bun builds `request.url` with the URL parser, which resolves `.`/`..` segments (and their `%2e`
 * spellings, and `\` as `/`), so the raw path is gone by the time JavaScript runs. Bun's own
 * router, though, matches the raw request-target: the listener therefore routes every request
 * through {@link segmentRoutes}, one `/:s1/…/:sN` pattern per depth, and the gate reads the raw
 * segments from `request.params`. A target those patterns cannot split (an empty segment, a
 * trailing slash, more than {@link MAX_PATH_SEGMENTS} segments) lands on the `/*` route and is
 * refused: it may hide a dot segment, and no route has such a path.
 */
import { Elysia } from 'elysia';
import { requireApiKey } from './auth-key.ts';
import { HttpError } from './errors.ts';

/** The deepest raw path the listener reads segment by segment; no route is deeper than 7. */
const MAX_PATH_SEGMENTS = 16;
/**
 * Header bytes (names, values and the request line) a request may carry; above it, 431. Bun's
 * parser refuses at its own limit, set higher than this in the build, with an empty body.
 */
const MAX_HEADER_BYTES = 16 * 1024;
/** Routes that answer without a usable Host (HTTP/1.0 health checkers send none). */
const HOSTLESS = new Set(['/healthz', '/readyz']);
/** `application/json`, or a structured `+json` type such as `application/merge-patch+json`. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/** What the gate needs; read per request. */
export interface GateOptions {
  /** `auth.api_key` (undefined when unset: `/api/` routes answer 503). */
  apiKey: () => string | undefined;
  /** The largest JSON body a route takes, in bytes (`server.max_payload_bytes`). */
  maxBodyBytes: () => number;
  /**
   * The largest declared upload of a deferred reply (`POST /api/v1/turns/:id/reply`), whose body
   * the route reads itself, as a stream, in any answer format; absent: no such route.
   */
  maxUploadBytes?: () => number;
}

/** The deferred reply upload: its body is an answer stream, read by the route. */
const UPLOAD_PATH = /^\/api\/v1\/turns\/[^/]+\/reply$/;
/** What the parse hook hands a route that reads its own body. */
const UNPARSED = Object.freeze({});

type Handler = (request: Request) => Response | Promise<Response>;

/** A refusal: status, code and message for the `{error:{code,message}}` envelope. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/**
 * The gate: the listener's routes, the check the request log runs first thing for every request
 * (request-log.ts, so refusals are logged and counted like any answer), and the body parser.
 */
export function createGate(deps: GateOptions) {
  const unsplit = new WeakSet<Request>();
  return {
    /** Bun.serve routes that hand every request to `fetch` with its raw segments in `params`. */
    routes: (fetch: Handler) => segmentRoutes(fetch, (request) => unsplit.add(request)),
    check: (request: Request) => (unsplit.has(request) ? UNSPLIT : checkRequest(request, deps)),
    plugin: () =>
      new Elysia({ name: 'lifeline.request-gate' })
        // Elysia calls parse hooks on every route, body or not; a bodiless request is left alone.
        .onParse({ as: 'global' }, ({ request }) => {
          if (deps.maxUploadBytes !== undefined && UPLOAD_PATH.test(pathOf(request.url))) {
            return UNPARSED;
          }
          return carriesBody(request) ? readJsonBody(request, deps.maxBodyBytes()) : undefined;
        }),
  };
}

const UNSPLIT: Refusal = {
  status: 400,
  code: 'bad_request',
  message: `path: empty segment, trailing slash or more than ${MAX_PATH_SEGMENTS} segments; send the route's path as documented`,
};

/**
 * `/`, `/:s1`, `/:s1/:s2` … up to {@link MAX_PATH_SEGMENTS}, each calling `fetch`, and `/*` for
 * the rest, which calls `mark` first so the gate refuses it.
 */
function segmentRoutes(fetch: Handler, mark: (request: Request) => void) {
  const routes: Record<string, Handler> = { '/': fetch };
  let pattern = '';
  for (let depth = 1; depth <= MAX_PATH_SEGMENTS; depth++) {
    pattern += `/:s${depth}`;
    routes[pattern] = fetch;
  }
  routes['/*'] = (request) => {
    mark(request);
    return fetch(request);
  };
  return routes;
}

/** The first rule `request` breaks, in the order a client would want to hear them, or none. */
export function checkRequest(request: Request, deps: GateOptions): Refusal | undefined {
  const params = (request as { params?: Record<string, string> }).params;
  if (params !== undefined) {
    for (const segment of Object.values(params)) {
      const bad = badSegment(segment);
      if (bad !== undefined) return { status: 400, code: 'bad_request', message: bad };
    }
  }
  const headerBytes = headerSize(request);
  if (headerBytes > MAX_HEADER_BYTES) {
    return {
      status: 431,
      code: 'headers_too_large',
      message: `headers: ${headerBytes} bytes; the limit is ${MAX_HEADER_BYTES}`,
    };
  }
  const path = pathOf(request.url);
  if (!URL.canParse(request.url) && !HOSTLESS.has(path)) {
    return {
      status: 400,
      code: 'bad_request',
      message: 'Host: missing or not a valid host[:port]; send the name the daemon is reached at',
    };
  }
  if (path.startsWith('/api/')) {
    const refused = keyRefusal(request, deps);
    if (refused !== undefined) return refused;
  }
  if (deps.maxUploadBytes !== undefined && UPLOAD_PATH.test(path)) {
    const length = request.headers.get('content-length');
    const limit = deps.maxUploadBytes();
    if (length !== null && Number(length) > limit)
      return tooLarge(`${length.trim()} bytes declared`, limit);
    return undefined;
  }
  return bodyRefusal(request, deps.maxBodyBytes());
}

/** Why a raw path segment (as Bun's router split and percent-decoded it) is refused, or none. */
export function badSegment(segment: string): string | undefined {
  if (segment === '.' || segment === '..') {
    return 'path: "." and ".." segments (also as %2e) are refused; send the resolved path';
  }
  if (segment.includes('\\') || segment.includes('#')) {
    return 'path: "\\" and "#" are refused in a path; percent-encode them or leave them out';
  }
  return undefined;
}

/** The path of a request URL, absolute (`http://h/p?q`) or, without a usable Host, relative. */
export function pathOf(url: string): string {
  const start = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  return url.slice(start, query < 0 ? undefined : query);
}

function headerSize(request: Request): number {
  let bytes = request.method.length + request.url.length;
  for (const [name, value] of request.headers) bytes += name.length + value.length + 4;
  return bytes;
}

function keyRefusal(request: Request, deps: GateOptions): Refusal | undefined {
  try {
    requireApiKey(request.headers.get('authorization'), deps.apiKey());
    return undefined;
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
}

/** True when the request has a body: a non-zero Content-Length, or chunked. */
function carriesBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  return (
    request.headers.has('transfer-encoding') || (length !== null && Number(length.trim()) !== 0)
  );
}

/** 415 for a body that is not JSON, 413 for a declared length over the limit. */
function bodyRefusal(request: Request, maxBytes: number): Refusal | undefined {
  if (!carriesBody(request)) return undefined;
  const length = request.headers.get('content-length');
  const type = request.headers.get('content-type');
  if (!isJsonType(type)) {
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: `content-type: ${type === null ? 'missing' : JSON.stringify(type.slice(0, 100))}; send application/json (charset utf-8)`,
    };
  }
  if (length !== null && Number(length) > maxBytes) {
    return tooLarge(`${length.trim()} bytes declared`, maxBytes);
  }
  return undefined;
}

/** True for `application/json` or `application/*+json`, with no charset or charset utf-8. */
export function isJsonType(header: string | null): boolean {
  if (header === null) return false;
  const [media = '', ...params] = header.split(';');
  if (!JSON_MEDIA_TYPE.test(media.trim().toLowerCase())) return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') return true;
    return /^"?utf-8"?$/i.test(value.trim());
  });
}

function tooLarge(what: string, maxBytes: number): Refusal {
  return {
    status: 413,
    code: 'too_large',
    message: `body: ${what}; the limit is ${maxBytes} bytes (server.max_payload_bytes)`,
  };
}

function overLimit(what: string, maxBytes: number): HttpError {
  const refusal = tooLarge(what, maxBytes);
  return new HttpError(refusal.status, refusal.code, refusal.message);
}

/**
 * Reads at most `maxBytes` of the body (413 past that, the rest never read), decodes it as strict
 * UTF-8 (400 for any invalid byte: nothing is replaced by U+FFFD) and parses it as JSON (400).
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readBounded(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'bad_request', 'body: not valid UTF-8; send JSON encoded as UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message.split('\n')[0]}` : '';
    throw new HttpError(400, 'bad_request', `body: not valid JSON${detail}`);
  }
}

async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  // A declared length was checked against the limit from the headers, and Bun delivers no more
  // than it declares: read it in one go. Only a chunked body is read piece by piece.
  const declared = request.headers.get('content-length');
  if (!request.headers.has('transfer-encoding') && declared !== null) {
    if (Number(declared) > maxBytes) throw overLimit(`${declared.trim()} bytes declared`, maxBytes);
    return new Uint8Array(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw overLimit(`over ${maxBytes} bytes sent`, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
