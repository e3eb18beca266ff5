/**
 * @module Errors of the breaker layer.
 */

import { LifelineError } from '../lib/errors.ts';

/** Thrown by `CircuitBreaker.execute` when the circuit refuses the call (open, or half-open and full). */
export class BreakerOpenError extends LifelineError {
  override readonly name = 'BreakerOpenError';
  /** Monotonic time (clock.monoMs) from which a probe may be allowed. */
  readonly retryAtMonoMs: number;

  constructor(retryAtMonoMs: number) {
    super('breaker_open', 'the memory service circuit is open; the call was not made', {
      fix: 'wait for the circuit to half-open, or check the memory service',
    });
    this.retryAtMonoMs = retryAtMonoMs;
  }

  /**
   * Builds the error without capturing a stack trace: a refusal is an expected outcome whose
   * stack says nothing, and capturing it is most of the cost of refusing a call while open.
   */
  static create(retryAtMonoMs: number): BreakerOpenError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new BreakerOpenError(retryAtMonoMs);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
