/**
 * @module Exit codes (docs/design.md#cli). Only `main.ts` sets the process exit code; commands
 * return one.
 */

/** The exit codes lifeline uses. */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** A check or the service failed; a supervisor should look before restarting. */
  failed: 1,
  /** Usage error: unknown command or flag, bad value. */
  usage: 2,
} as const;

/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage error; the message says what was wrong and how to fix it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
