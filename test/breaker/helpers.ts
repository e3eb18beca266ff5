/**
 * Shared set-up for the breaker tests: a breaker on a FakeClock with the default settings in ms, and a
 * recorder of its transition events.
 */
import { type BreakerOptions, CircuitBreaker } from '../../src/breaker/breaker.ts';
import type { BreakerFailure } from '../../src/breaker/outcome.ts';
import type { BreakerTransition } from '../../src/breaker/state.ts';
import { FakeClock } from '../support/clock.ts';

/** docs/design.md#configuration defaults, converted to milliseconds. */
export const DEFAULTS = {
  failureThreshold: 5,
  cooldownMs: 30_000,
  cooldownMaxMs: 300_000,
  backoff: 2,
  halfOpenMaxCalls: 1,
} as const;

/** A plain failure such as a timeout or a 503. */
export const TIMEOUT: BreakerFailure = { error: 'timeout after 2000 ms' };

/** A breaker with jitter neutralised (random 0.5 → factor 1) unless the test overrides it. */
export function makeBreaker(overrides: Partial<BreakerOptions> = {}) {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({ ...DEFAULTS, clock, random: () => 0.5, ...overrides });
  const events: BreakerTransition[] = [];
  breaker.onTransition((event) => events.push(event));
  return { clock: (overrides.clock as FakeClock | undefined) ?? clock, breaker, events };
}

/** Acquires and fails `count` calls in a row. */
export function failTimes(breaker: CircuitBreaker, count: number, failure = TIMEOUT): void {
  for (let i = 0; i < count; i++) breaker.recordFailure(breaker.tryAcquire(), failure);
}

/** Opens a default breaker with `threshold` failures and returns its parts. */
export function openedBreaker(overrides: Partial<BreakerOptions> = {}) {
  const parts = makeBreaker(overrides);
  failTimes(parts.breaker, parts.breaker.options.failureThreshold);
  return parts;
}
