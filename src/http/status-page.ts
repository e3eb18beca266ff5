/**
 * @module The operator status page at `/` (docs/design.md#http-api): one self-contained HTML file
 * embedded in the binary, served with a strict Content-Security-Policy. The page asks for
 * `auth.api_key`, keeps it in sessionStorage only, and polls `GET /api/v1/admin/status` every 2 s
 * with `Authorization: Bearer <key>`. It reads the JSON below ({@link AdminStatus}); the admin
 * route must answer it with 200 in every daemon phase, 401 for a wrong key, and 503 only when the
 * admin API is disabled (no `auth.api_key`), because the page explains a 503 as exactly that.
 *
 * ```jsonc
 * {
 *   "status": "ready",                 // starting | ready | unavailable | draining (as /readyz)
 *   "version": "0.1.0",
 *   "uptime_s": 3600,
 *   "memory": { "backend": "zep", "status": "write_only" },   // ok | write_only | misconfigured
 *   "breaker": {
 *     "state": "open",                 // closed | open | half_open
 *     "consecutive_failures": 5,
 *     "next_probe_at": "2026-11-24T10:00:30.000Z",   // ISO 8601 or null unless open
 *     "reopen_count": 1,
 *     "last_error": "timeout after 2000 ms",         // or null; never a secret
 *     "transitions": [                 // oldest first, the most recent ones (e.g. 50)
 *       { "at": "2026-11-24T10:00:00.000Z", "from": "closed", "to": "open", "reason": "failures" }
 *     ]
 *   },
 *   "outbox": { "pending": 12, "dead": 0, "delivered": 3400 },
 *   "connections": 153,
 *   "latency_ms": { "p50": 41.2, "p99": 380 }          // optional: memory request latency
 * }
 * ```
 *
 * Element ids a browser test can rely on: `api-key` (key input), `connect` (submit button),
 * `breaker-state` (text exactly `closed`, `open` or `half_open`), `memory-status`, `connections`,
 * `outbox-pending`, `outbox-dead`, `transitions` (one `li` per transition, newest first).
 */
import { createHash } from 'node:crypto';
import { Elysia } from 'elysia';
import type { BreakerStateName, TransitionReason } from '../breaker/state.ts';
import statusHtml from './assets/status.html' with { type: 'text' };

// With `type: 'text'` Bun (and `bun build --compile`) embeds the file as a string; bun-types
// declares every `*.html` import as an HTMLBundle for Bun.serve routes, hence the cast.
const html = statusHtml as unknown as string;

/** One breaker transition as the status page shows it. */
export interface AdminStatusTransition {
  /** Wall-clock time, ISO 8601. */
  at: string;
  from: BreakerStateName;
  to: BreakerStateName;
  reason: TransitionReason;
}

/** The body of `GET /api/v1/admin/status`, the contract between the admin route and the page. */
export interface AdminStatus {
  status: 'starting' | 'ready' | 'unavailable' | 'draining';
  version: string;
  uptime_s: number;
  memory: { backend: string; status: 'ok' | 'write_only' | 'misconfigured' };
  breaker: {
    state: BreakerStateName;
    consecutive_failures: number;
    /** ISO 8601; null unless open. */
    next_probe_at: string | null;
    reopen_count: number;
    last_error: string | null;
    /** Oldest first. */
    transitions: AdminStatusTransition[];
  };
  outbox: { pending: number; dead: number; delivered: number };
  connections: number;
  /** Memory request latency percentiles, when measured. */
  latency_ms?: { p50: number; p99: number };
  /** With an assistant configured: its backend, status, circuit and turns in progress. */
  assistant?: {
    backend: 'demo' | 'http';
    status: 'ok' | 'unavailable' | 'none';
    circuit: string;
    streaming: number;
    queued: number;
  };
  /** Cluster mode only: this instance and the live members (heartbeat within the last beats). */
  cluster?: {
    instance_id: string;
    members: Array<{ instance_id: string; address: string; started_at: string; last_seen: string }>;
  };
}

/** The embedded page's text; preflight's "embedded assets present" check calls this. */
export function statusPageAsset(): string {
  return html;
}

/**
 * The Content-Security-Policy for the page: nothing may load except the page's own inline script
 * and style (pinned by hash) and fetches to its own origin.
 */
export function statusPageCsp(page: string = html): string {
  const scripts = inlineHashes(page, 'script');
  const styles = inlineHashes(page, 'style');
  return [
    "default-src 'none'",
    `script-src ${scripts.join(' ')}`,
    `style-src ${styles.join(' ')}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `'sha256-…'` sources for every inline `<tag>` element's text, as browsers hash it. */
function inlineHashes(page: string, tag: 'script' | 'style'): string[] {
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  const hashes: string[] = [];
  for (const match of page.matchAll(pattern)) {
    // The HTML parser turns CR LF and lone CR into LF before the browser hashes the text.
    const text = (match[1] ?? '').replace(/\r\n?/g, '\n');
    hashes.push(`'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`);
  }
  return hashes.length > 0 ? hashes : ["'none'"];
}

/** The `/` route serving the embedded status page, and an empty `/favicon.ico` browsers ask for. */
export function statusPageRoutes() {
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': statusPageCsp(),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
  };
  return new Elysia({ name: 'lifeline.status-page' })
    .get('/', () => new Response(html, { headers }), {
      detail: { summary: 'Operator status page (HTML)', tags: ['operations'] },
    })
    .get('/favicon.ico', () => new Response(null, { status: 204 }), { detail: { hide: true } });
}
