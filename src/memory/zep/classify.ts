/**
 * @module Response → outcome (docs/design.md#breaker, #wrong-api-version, #retry-after;
 * docs/zep.md#status-codes, #client-notes). Pure functions: a status and a body in, a value out,
 * never a throw. The key rule is the 404 split: a 404 whose body is chi's `404 page not found` or
 * an HTML page means the *route* is missing (wrong pinned version or base URL: misconfigured), any
 * other 404 means the *resource* is missing (an answer).
 */
import type { Failure, Misconfigured, Rejected } from '../client.ts';
import type { RateLimitHeaders } from './pacing.ts';

/** A complete HTTP response, body already read (and capped) by the transport. */
export interface HttpResponse {
  status: number;
  /** The raw Retry-After header, or null. */
  retryAfter: string | null;
  /** The body as text (Zep sends JSON as text/plain, so the operation decides how to parse). */
  text: string;
  /** `X-RateLimit-*` as received (Zep Cloud sends them on every answer). */
  rateLimit?: RateLimitHeaders;
  /** `X-Zep-Version`, which only Zep 0.x sends (docs/zep.md#health). */
  zepVersion?: string | null;
}

/** What a route-404 body says about the server that sent it. */
type RouteNotFoundBody = 'html' | 'router';

/** The kind of a route-404 body: an HTML page (Zep 0.x web UI) or the Go router's plain text. */
function routeNotFoundBody(body: string): RouteNotFoundBody {
  return body.trimStart().startsWith('404 page not found') ? 'router' : 'html';
}

/** A status the operation handles itself: a 2xx, or a 404 for a missing user/session. */
export type StatusClass =
  | { kind: 'ok' }
  | { kind: 'not_found' }
  | Failure
  | Misconfigured
  | Rejected;

/** Longest piece of a response body kept in a reason or log line. */
const MAX_REASON_CHARS = 200;

/** True when a 404 body says the route, not a resource, is missing (docs/zep.md#status-codes). */
export function isRouteNotFound(body: string): boolean {
  const text = body.trimStart();
  if (text.startsWith('404 page not found')) return true;
  if (text.startsWith('<')) return true;
  return /<html[\s>]/i.test(text.slice(0, 2048));
}

/**
 * Parses Retry-After as delay-seconds or an HTTP-date, returning milliseconds ≥ 0, or undefined for
 * junk (docs/design.md#retry-after: junk values are ignored). A date in the past is 0. The result
 * is not capped here; the breaker caps it at cooldown_max.
 */
export function parseRetryAfterMs(value: string | null, nowWallMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?(e\+?\d+)?$/i.test(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? seconds * 1000 : undefined;
  }
  // An HTTP-date always names a month or weekday; this keeps Date.parse's guesses ("1", "-5") out.
  if (!/[A-Za-z]{3}/.test(text) || !/\d{4}/.test(text)) return undefined;
  const atMs = Date.parse(text);
  if (!Number.isFinite(atMs)) return undefined;
  return Math.max(0, atMs - nowWallMs);
}

/** One line from a body for a reason: first line, trimmed, shortened. */
export function reasonOf(body: string, fallback: string): string {
  const firstLine = body.trim().split('\n')[0] ?? '';
  let text = firstLine;
  try {
    const parsed: unknown = JSON.parse(firstLine);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
      const message = (parsed as { message: unknown }).message;
      if (typeof message === 'string') text = message;
    }
  } catch {
    // Not JSON: v1 errors are plain text (docs/zep.md#status-codes).
  }
  if (text.startsWith('<')) text = 'HTML page';
  text = text.trim();
  if (text === '') return fallback;
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

/** Classifies a response by status (and body for 404); the caller parses 2xx bodies. */
export function classifyStatus(response: HttpResponse, nowWallMs: number): StatusClass {
  const { status, text } = response;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const reason = reasonOf(text, `HTTP ${status}`);
  if (status === 404) {
    if (!isRouteNotFound(text)) return { kind: 'not_found' };
    return {
      kind: 'misconfigured',
      reason: 'route_404',
      status,
      detail: `route missing (404 ${reason})`,
      routeBody: routeNotFoundBody(text),
    };
  }
  if (status === 401 || status === 403) {
    return {
      kind: 'misconfigured',
      reason: 'unauthorized',
      status,
      detail: `HTTP ${status} ${reason}`,
    };
  }
  if (status >= 300 && status < 400) {
    return {
      kind: 'misconfigured',
      reason: 'redirect',
      status,
      detail: `unexpected redirect (HTTP ${status})`,
    };
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(response.retryAfter, nowWallMs);
    const base: Failure = {
      kind: 'failure',
      failure: 'http_429',
      status,
      detail: `HTTP 429 ${reason}`,
    };
    return retryAfterMs === undefined ? base : { ...base, retryAfterMs };
  }
  if (status === 408) return { kind: 'failure', failure: 'timeout', status, detail: 'HTTP 408' };
  if (status >= 500)
    return { kind: 'failure', failure: 'http_5xx', status, detail: `HTTP ${status} ${reason}` };
  if (status >= 400) return { kind: 'rejected', status, reason };
  // 1xx and other oddities: the service misbehaves.
  return { kind: 'failure', failure: 'bad_body', status, detail: `unexpected HTTP ${status}` };
}

/**
 * True for a 400 (or 409) whose body says the user or session already exists
 * (docs/zep.md#status-codes).
 */
export function isAlreadyExists(response: HttpResponse): boolean {
  return (
    (response.status === 400 || response.status === 409) && /already exists/i.test(response.text)
  );
}
