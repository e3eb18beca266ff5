/**
 * @module Assertions for programmer errors only (impossible states), never for user input.
 */

/** Thrown when an internal invariant is broken: a bug, not an operating error. */
class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/**
 * Crashes loudly when `condition` is false.
 * @throws AssertionError
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
