/**
 * Request ids, access log lines and the drain gate on every HTTP route (issue 7,
 * docs/design.md#operations, #token-rules).
 */
import { describe, expect, test } from 'bun:test';
import { createApp } from '../../src/http/app.ts';
import type { Readiness } from '../../src/http/health.ts';
import { requestIdOf } from '../../src/http/request-log.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createMetrics } from '../../src/metrics/registry.ts';

function appWith(phase: () => 'starting' | 'ready' | 'draining') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    sink: (line) => lines.push(JSON.parse(line)),
  });
  const metrics = createMetrics();
  const readiness: Readiness = {
    phase,
    unavailableReason: () => undefined,
    details: async () => ({}),
  };
  const app = createApp({ readiness, metrics, logger, refreshMetrics: async () => {} });
  return { app, lines, metrics };
}

describe('request log', () => {
  test('echoes a well-formed X-Request-Id and makes one otherwise', async () => {
    const { app } = appWith(() => 'ready');
    const given = await app.handle(
      new Request('http://localhost/healthz', { headers: { 'x-request-id': 'abc-123' } }),
    );
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await app.handle(
      new Request('http://localhost/healthz', {
        headers: { 'x-request-id': 'bad id with spaces and "quotes"' },
      }),
    );
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(null)).not.toBe(requestIdOf(null));
  });

  test('logs method, path without the query string, route and status; never the token', async () => {
    const { app, lines } = appWith(() => 'ready');
    await app.handle(new Request('http://localhost/readyz?token=secret-token-value'));
    await Bun.sleep(0);
    const line = lines.find((entry) => entry.msg === 'http request');
    expect(line).toMatchObject({ method: 'GET', path: '/readyz', route: '/readyz', status: 200 });
    expect(JSON.stringify(lines)).not.toContain('secret-token-value');
  });

  test('counts requests by route and status', async () => {
    const { app, metrics } = appWith(() => 'ready');
    await app.handle(new Request('http://localhost/healthz'));
    await app.handle(new Request('http://localhost/healthz'));
    await Bun.sleep(0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('lifeline_http_requests_total{route="/healthz",status="200"} 2');
  });

  test('while draining, health, readiness and metrics answer and every other route is 503', async () => {
    const { app } = appWith(() => 'draining');
    expect((await app.handle(new Request('http://localhost/healthz'))).status).toBe(200);
    expect((await app.handle(new Request('http://localhost/readyz'))).status).toBe(503);
    expect((await app.handle(new Request('http://localhost/metrics'))).status).toBe(200);
    const page = await app.handle(new Request('http://localhost/'));
    expect(page.status).toBe(503);
    expect(await page.json()).toMatchObject({ error: { code: 'unavailable' } });
  });
});
