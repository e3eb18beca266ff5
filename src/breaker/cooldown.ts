/**
 * @module How long a circuit stays open: exponential backoff over re-opens, capped, with jitter
 * (docs/design.md#configuration breaker.*), and Retry-After as a lower bound
 * (docs/design.md#retry-after). Pure, so it is tested alone.
 */

/** Inputs of {@link nextCooldownMs}. */
interface CooldownOptions {
  /** The first cooldown (breaker.cooldown_s in ms). */
  baseMs: number;
  /** The cap (breaker.cooldown_max_s in ms); applied before jitter. */
  maxMs: number;
  /** Factor per re-open (breaker.backoff), ≥ 1. */
  backoff: number;
  /** Re-opens after failed probes since the circuit last closed; 0 for the first open. */
  reopenCount: number;
  /** Relative jitter, e.g. 0.1 for ±10 %. */
  jitterRatio: number;
  /** A uniform draw in [0, 1). */
  random: () => number;
  /** A lower bound such as a Retry-After; itself capped at `maxMs`. */
  minMs?: number;
}

/**
 * Returns the cooldown in whole milliseconds: `min(base·backoff^reopenCount, max)` scaled by a
 * factor in `[1 - jitter, 1 + jitter)`, then raised to `min(minMs, max)` when that is longer.
 * The cap is applied before the jitter, so a capped cooldown still spreads out across instances.
 */
export function nextCooldownMs(input: CooldownOptions): number {
  const grownMs = input.baseMs * input.backoff ** input.reopenCount;
  const cappedMs = Math.min(grownMs, input.maxMs);
  const factor = 1 + input.jitterRatio * (2 * input.random() - 1);
  const jitteredMs = Math.round(cappedMs * factor);
  const floorMs = input.minMs === undefined ? 0 : Math.min(input.minMs, input.maxMs);
  return Math.max(jitteredMs, Math.round(floorMs), 0);
}
