/**
 * @module When a turn is tried again after its assistant failed (docs/assistant.md "Retries"):
 * about 1 s, 5 s, 30 s, 2 min, then every 5 min, each ±20 % jitter, never before a Retry-After.
 */

/** The base delays, by attempt that failed (1-based); past the end the last one repeats. */
const BASE_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 300_000];
const JITTER = 0.2;

/** The wait before the attempt after `failedAttempt`, in ms. */
export function retryDelayMs(
  failedAttempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const index = Math.min(Math.max(failedAttempt, 1), BASE_DELAYS_MS.length) - 1;
  const base = BASE_DELAYS_MS[index] ?? 300_000;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return Math.max(jittered, retryAfterMs ?? 0);
}
