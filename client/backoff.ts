/**
 * @module Reconnect delays: exponential backoff with **full jitter** from the first retry (AWS
 * Architecture Blog, "Exponential Backoff And Jitter", 2015): the delay for attempt n is drawn
 * uniformly from [0, min(cap, base · 2ⁿ)). Without jitter every client that lost the same server
 * comes back at the same instants; with it the reconnects spread over the whole window.
 */

/** Tuning of the reconnect delays; every field has a default. */
export interface BackoffOptions {
  /** Upper bound of the first retry's window, in ms (default 500). */
  baseMs: number;
  /** Largest window, in ms (default 30,000). */
  capMs: number;
  /** Least delay after a 4008 close (rate limit, too many sockets, slow consumer); default 5,000. */
  slowDownMs: number;
  /** Draw delays at random within the window (default true); false only to measure the storm. */
  jitter: boolean;
}

/** Defaults from docs/protocol.md §9 (0.5 s → 30 s) and §7 (4008: ≥ 5 s with jitter). */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 500,
  capMs: 30_000,
  slowDownMs: 5_000,
  jitter: true,
});

/** A source of uniform numbers in [0, 1), such as `Math.random`. */
export type RandomSource = () => number;

/**
 * The window of attempt `attempt` (0 for the first retry): `min(capMs, baseMs · 2^attempt)`.
 * @throws RangeError for a negative or fractional attempt.
 */
export function backoffWindowMs(attempt: number, options: Readonly<BackoffOptions>): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`attempt must be an integer ≥ 0, got ${attempt}`);
  }
  // 2^31 is far past any cap; clamping the exponent keeps the product finite.
  return Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 31));
}

/**
 * The delay before retry `attempt`: uniform in [0, window) with jitter, the window itself without.
 * A `floorMs` (4008) is added under the jittered part, so the delay lies in [floor, floor + window).
 */
export function backoffDelayMs(
  attempt: number,
  options: Readonly<BackoffOptions>,
  random: RandomSource,
  floorMs = 0,
): number {
  const windowMs = backoffWindowMs(attempt, options);
  const drawnMs = options.jitter ? Math.floor(random() * windowMs) : windowMs;
  return floorMs + drawnMs;
}

/**
 * A small seeded generator (mulberry32) for reproducible jitter in tests and benchmarks. Not for
 * anything that needs to be unpredictable.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
