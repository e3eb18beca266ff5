/**
 * @module What a call's outcome means to the breaker. The memory layer's classifier maps HTTP
 * statuses, timeouts and network errors onto {@link BreakerFailure} (docs/design.md#breaker).
 */

/** What went wrong with a call that counts against the service (docs/design.md#breaker). */
export interface BreakerFailure {
  /** One line for logs and status; never user content or secrets. */
  error: string;
  /**
   * A parsed Retry-After: opens at once, and is a minimum cooldown (docs/design.md#retry-after).
   */
  retryAfterMs?: number;
  /**
   * The pinned API route is missing: opens at once for cooldownMaxMs
   * (docs/design.md#wrong-api-version).
   */
  misconfigured?: boolean;
}

/** Turns a call's outcome into a failure, or null when it is an answer (2xx, 404 session, 4xx). */
export interface BreakerClassifier<T> {
  value?: (value: T) => BreakerFailure | null;
  error?: (error: unknown) => BreakerFailure | null;
}

/** A Retry-After the caller parsed; anything not a finite non-negative number is ignored (§8.2). */
export function validRetryAfterMs(value: number | undefined): number | undefined {
  if (value === undefined || !Number.isFinite(value) || value < 0) return undefined;
  return value;
}
