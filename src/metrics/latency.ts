/**
 * @module Memory request latency percentiles for the status page (issue 7), estimated from the
 * `lifeline_memory_request_duration_seconds` histogram the way PromQL's `histogram_quantile` does:
 * linear interpolation inside the bucket that holds the rank. Since process start, all operations
 * and outcomes of the backend together.
 */
import type { Metrics } from './registry.ts';

const BUCKET_SAMPLES = 'lifeline_memory_request_duration_seconds_bucket';

/** p50 and p99 in ms, or undefined before the first request. */
export async function memoryLatencyMs(
  metrics: Metrics,
): Promise<{ p50: number; p99: number } | undefined> {
  const data = await metrics.memoryRequestSeconds.get();
  const cumulative = new Map<number, number>();
  for (const sample of data.values) {
    if (sample.metricName !== BUCKET_SAMPLES) continue;
    // prom-client adds `le` to bucket samples; its label type lists only the declared names.
    const bound = (sample.labels as Record<string, string | number | undefined>).le;
    const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
    cumulative.set(le, (cumulative.get(le) ?? 0) + sample.value);
  }
  const buckets = [...cumulative].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  return { p50: quantileMs(buckets, total, 0.5), p99: quantileMs(buckets, total, 0.99) };
}

function quantileMs(buckets: Array<[number, number]>, total: number, q: number): number {
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      // Above the last finite bound nothing is known but that bound (as histogram_quantile).
      if (le === Number.POSITIVE_INFINITY) return round(lowerLe * 1000);
      const inBucket = count - lowerCount;
      const fraction = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket;
      return round((lowerLe + (le - lowerLe) * fraction) * 1000);
    }
    lowerLe = le;
    lowerCount = count;
  }
  return round(lowerLe * 1000);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
