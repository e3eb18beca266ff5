/**
 * @module Request ids, access log lines and the request counter for every HTTP route (issue 7). The
 * id comes from a well-formed `X-Request-Id` header or is made here, and is echoed back. The log
 * line carries the path without its query string: `?token=` must never reach a log
 * (docs/design.md#token-rules).
 */
import { Elysia } from 'elysia';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import { pathOf, type Refusal } from './request-gate.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Routes that answer while draining; everything else gets 503 once the daemon stops. */
const ALWAYS_OPEN = new Set(['/healthz', '/readyz', '/metrics']);

/** The request id to use for `header`: the client's when well formed, else a new one. */
export function requestIdOf(header: string | null): string {
  return header !== null && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/** What {@link requestLog} needs. */
interface RequestLogOptions {
  logger: Logger;
  metrics: Metrics;
  draining: () => boolean;
  /** The request gate's check (request-gate.ts): a refusal answered before any route runs. */
  gate?: (request: Request) => Refusal | undefined;
}

const DRAINING: Refusal = {
  status: 503,
  code: 'unavailable',
  message: 'the daemon is shutting down; retry on another instance',
};

/** Adds request ids, access logs, the request counter, the drain gate and the request gate. */
export function requestLog(deps: RequestLogOptions) {
  const started = new WeakMap<Request, { id: string; atMs: number; path: string }>();
  const logged = new WeakSet<Request>();
  const record = (request: Request, route: string, status: number) => {
    if (logged.has(request)) return;
    logged.add(request);
    const info = started.get(request);
    deps.metrics.httpRequests.inc({ route, status: String(status) });
    deps.logger.debug('http request', {
      request_id: info?.id,
      method: request.method,
      path: info?.path,
      route,
      status,
      duration_ms: info ? Math.round((performance.now() - info.atMs) * 100) / 100 : undefined,
    });
  };
  return new Elysia({ name: 'lifeline.request-log' })
    .onRequest(({ request, set }) => {
      const id = requestIdOf(request.headers.get('x-request-id'));
      // Not `new URL`: without a usable Host, Bun's request.url is relative (request-gate.ts).
      const path = pathOf(request.url);
      started.set(request, { id, atMs: performance.now(), path });
      set.headers['x-request-id'] = id;
      const refusal = deps.draining() && !ALWAYS_OPEN.has(path) ? DRAINING : deps.gate?.(request);
      if (refusal === undefined) return undefined;
      set.status = refusal.status;
      // Elysia runs no afterResponse hook for an answer given here: log it now.
      record(request, 'unmatched', refusal.status);
      return { error: { code: refusal.code, message: refusal.message } };
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const status = typeof set.status === 'number' ? set.status : 200;
      record(request, route || 'unmatched', status);
    });
}
