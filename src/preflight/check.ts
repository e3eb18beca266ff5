/**
 * @module The preflight check contract (docs/design.md#preflight). A check is a small async
 * function that returns a value (ok / warn / fail, a one-line detail and, on warn or fail, a
 * one-line fix); it does not throw for expected failures. Checks from every layer share this type;
 * the runner in `run.ts` times them, isolates exceptions and applies `--strict`.
 */

/**
 * The outcome of one check. Only `fail` makes `lifeline check` exit 1 (docs/design.md#cli,
 * #preflight).
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** A passing outcome: what was confirmed, in one line. */
interface CheckPass {
  status: 'ok';
  /** One line saying what was confirmed, e.g. `127.0.0.1:7400 is free`. */
  detail: string;
  fix?: undefined;
  /** Extra lines shown indented under the row, e.g. one per config issue. */
  items?: readonly string[];
}

/** A warning or failure: what is wrong and, always, how to fix it. */
interface CheckProblem {
  status: 'warn' | 'fail';
  /** One line saying what is wrong; never contains a secret. */
  detail: string;
  /** One line saying what the operator should do. */
  fix: string;
  /** Extra lines shown indented under the row, e.g. one per config issue. */
  items?: readonly string[];
}

/** What a check's `run` returns. */
export type CheckOutcome = CheckPass | CheckProblem;

/** One row of a preflight run: the outcome plus the check's name and how long it took. */
export type CheckResult = CheckOutcome & {
  /** The check's stable kebab-case name, e.g. `data-dir`. */
  name: string;
  /** Wall time the check took, monotonic clock, rounded to 0.01 ms. */
  durationMs: number;
};

/** What the runner hands each check. */
export interface CheckContext {
  /** True under `--strict`; most checks ignore it, the runner applies it. */
  strict: boolean;
  /** Aborted when the check passes its time limit; pass it to fetch and other cancellable work. */
  signal: AbortSignal;
}

/** A named preflight check. */
export interface Check {
  /** Stable kebab-case name shown in the report and in JSON. */
  name: string;
  /**
   * When true, a `warn` from this check becomes a `fail` under `--strict`: used by the memory
   * backend check, a warning by default because the daemon degrades gracefully
   * (docs/design.md#preflight).
   */
  warnUnlessStrict?: boolean;
  /** Runs the check; expected failures are returned, not thrown. */
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

/** Builds an `ok` outcome. */
export function pass(detail: string, items?: readonly string[]): CheckPass {
  return items === undefined ? { status: 'ok', detail } : { status: 'ok', detail, items };
}

/** Builds a `warn` outcome; a warning always says how to fix it. */
export function warn(detail: string, fix: string, items?: readonly string[]): CheckProblem {
  return items === undefined
    ? { status: 'warn', detail, fix }
    : { status: 'warn', detail, fix, items };
}

/** Builds a `fail` outcome; a failure always says how to fix it. */
export function fail(detail: string, fix: string, items?: readonly string[]): CheckProblem {
  return items === undefined
    ? { status: 'fail', detail, fix }
    : { status: 'fail', detail, fix, items };
}
