/**
 * The status page's memory latency percentiles (src/metrics/latency.ts): estimated from the
 * histogram's buckets like PromQL's histogram_quantile, none before the first request.
 */
import { describe, expect, test } from 'bun:test';
import { memoryLatencyMs } from '../../src/metrics/latency.ts';
import { createMetrics } from '../../src/metrics/registry.ts';

const labels = { backend: 'zep', operation: 'add', outcome: 'answer' };

describe('memoryLatencyMs', () => {
  test('is undefined before the first request', async () => {
    expect(await memoryLatencyMs(createMetrics())).toBeUndefined();
  });

  test('interpolates inside the bucket that holds the rank, across label sets', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 50; i++) metrics.memoryRequestSeconds.observe(labels, 0.003);
    for (let i = 0; i < 25; i++) metrics.memoryRequestSeconds.observe(labels, 0.02);
    for (let i = 0; i < 24; i++) {
      metrics.memoryRequestSeconds.observe({ ...labels, operation: 'search' }, 0.02);
    }
    metrics.memoryRequestSeconds.observe({ ...labels, outcome: 'timeout' }, 3);
    // 100 requests: rank 50 ends the (0, 5 ms] bucket; rank 99 ends the (10, 25 ms] bucket.
    expect(await memoryLatencyMs(metrics)).toEqual({ p50: 5, p99: 25 });
  });

  test('reports the last finite bound when the rank lies above it', async () => {
    const metrics = createMetrics();
    metrics.memoryRequestSeconds.observe(labels, 30);
    expect(await memoryLatencyMs(metrics)).toEqual({ p50: 5000, p99: 5000 });
  });
});
