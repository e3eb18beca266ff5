/**
 * @module The base error. Every operating error lifeline reports carries a stable `code`, a
 * message that is safe to show to a client, an optional one-line fix hint, and the `cause`.
 */

/** Options for {@link LifelineError}. */
interface LifelineErrorOptions {
  /** What the operator or client should do about it, in one line. */
  fix?: string;
  /** The underlying error; logged, never sent to a client. */
  cause?: unknown;
}

/** Base class of every expected failure; `code` is a stable snake_case string. */
export class LifelineError extends Error {
  override readonly name: string = 'LifelineError';
  readonly code: string;
  readonly fix: string | undefined;

  constructor(code: string, message: string, options: LifelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
  }
}

/** Returns the message of anything thrown, without its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
