/**
 * @module Time sources. Timers, cooldowns and rate limits read the monotonic clock
 * (docs/design.md#clock); only persisted timestamps and token expiry read the wall clock.
 */

/** A source of time; inject a fake in tests instead of sleeping. */
export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin; never jumps when the wall clock is set. */
  monoMs(): number;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallMs(): number;
}

/** The process clock: `performance.now()` for monotonic time, `Date.now()` for wall time. */
export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
};
