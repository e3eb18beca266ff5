/**
 * @module The preflight runner (docs/design.md#preflight). It runs every check in order, never
 * stopping at the first failure, times each one on the monotonic clock, turns a thrown exception or
 * a hung check into a `fail` row, and applies `--strict`. `check` and `serve` both call it with the
 * same list (docs/design.md#check-equals-startup), so a check cannot pass in one and fail in the
 * other.
 */
import { type Clock, systemClock } from '../lib/clock.ts';
import { describeError, LifelineError } from '../lib/errors.ts';
import {
  type Check,
  type CheckContext,
  type CheckOutcome,
  type CheckResult,
  fail,
} from './check.ts';

/** Default time limit per check; the memory check's own request timeout (2 s) fits well inside. */
const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/** Options for {@link runChecks}. */
interface RunChecksOptions {
  /** `--strict`: warnings from `warnUnlessStrict` checks become failures. */
  strict?: boolean;
  /** Time limit for each check; past it the check is aborted and reported as failed. */
  timeoutMs?: number;
  /** Time source for the durations; inject a fake in tests. */
  clock?: Clock;
}

/** The outcome of a whole preflight run. */
export interface CheckRun {
  /** False iff any result is `fail`; the CLI exits 1 then (docs/design.md#cli). */
  ok: boolean;
  /** Whether `--strict` was applied. */
  strict: boolean;
  /** One row per check, in the order given. */
  results: CheckResult[];
}

/**
 * Runs every check, one after another, and returns all results. Checks run in sequence, not in
 * parallel, because later ones may rely on the side effects of earlier ones (the data dir is
 * created before the database opens) and so that two probes never race for the same resource.
 * Never throws.
 */
export async function runChecks(
  checks: readonly Check[],
  options: RunChecksOptions = {},
): Promise<CheckRun> {
  const strict = options.strict ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const results: CheckResult[] = [];
  for (const check of checks) {
    const startMs = clock.monoMs();
    const raw = await runOne(check, strict, timeoutMs);
    const durationMs = Math.round((clock.monoMs() - startMs) * 100) / 100;
    const outcome = applyStrict(normalize(raw), check, strict);
    results.push({ name: check.name, ...outcome, durationMs });
  }
  return { ok: results.every((r) => r.status !== 'fail'), strict, results };
}

/** Runs one check with a time limit; an exception or a timeout becomes a `fail` outcome. */
async function runOne(check: Check, strict: boolean, timeoutMs: number): Promise<CheckOutcome> {
  const controller = new AbortController();
  const ctx: CheckContext = { strict, signal: controller.signal };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`check ${check.name} timed out`));
      resolve(
        fail(
          `did not finish within ${timeoutMs} ms`,
          'find what the check waits on (a hung disk, network share or remote service) and fix it',
        ),
      );
    }, timeoutMs);
  });
  // Promise.resolve().then() also catches a check that throws synchronously.
  const running = Promise.resolve()
    .then(() => check.run(ctx))
    .catch((error: unknown) => fromException(error));
  try {
    return await Promise.race([running, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A thrown exception is a bug in the check or an unexpected operating error; report it as one. */
function fromException(error: unknown): CheckOutcome {
  const detail = `check threw: ${describeError(error)}`;
  if (error instanceof LifelineError && error.fix !== undefined) return fail(detail, error.fix);
  return fail(detail, 'this is unexpected: run with log.level=debug and report it with this line');
}

const STATUSES: ReadonlySet<string> = new Set(['ok', 'warn', 'fail']);

/**
 * Keeps the report one line per field whatever a check returns: newlines are collapsed, and a
 * warn or fail without a fix line, or a malformed result, is still reported sensibly.
 */
function normalize(outcome: CheckOutcome): CheckOutcome {
  if (outcome === null || typeof outcome !== 'object' || !STATUSES.has(outcome.status)) {
    return fail('check returned an invalid result', 'this is a bug in the check; report it');
  }
  const detail = oneLine(String(outcome.detail ?? '')) || '(no detail)';
  const items = outcome.items?.map((item) => oneLine(String(item)));
  const extra = items === undefined ? {} : { items };
  if (outcome.status === 'ok') return { status: 'ok', detail, ...extra };
  const fix = oneLine(String(outcome.fix ?? '')) || 'see the detail above';
  return { status: outcome.status, detail, fix, ...extra };
}

/**
 * Under `--strict`, a warning from a `warnUnlessStrict` check is a failure
 * (docs/design.md#preflight).
 */
function applyStrict(outcome: CheckOutcome, check: Check, strict: boolean): CheckOutcome {
  if (!strict || check.warnUnlessStrict !== true || outcome.status !== 'warn') return outcome;
  return { ...outcome, status: 'fail', detail: `${outcome.detail} (a failure under --strict)` };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
