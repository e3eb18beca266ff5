/**
 * @module `GET /metrics` in the Prometheus text format.
 */
import { Elysia } from 'elysia';
import type { Metrics } from '../metrics/registry.ts';

/** The `/metrics` route; `refresh` updates gauges that are read on demand (outbox depth…). */
export function metricsRoutes(metrics: Metrics, refresh: () => Promise<void>) {
  return new Elysia({ name: 'lifeline.metrics' }).get('/metrics', async ({ set }) => {
    metrics.startProcessMetrics();
    await refresh();
    set.headers['content-type'] = metrics.registry.contentType;
    return metrics.registry.metrics();
  });
}
