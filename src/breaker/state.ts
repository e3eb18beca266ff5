/**
 * @module The circuit breaker's state names and its persisted snapshot. Kept apart from the class so
 * that storage and status code can name the types without importing the state machine.
 */

/** The three states of a circuit (docs/design.md#memory). */
export type BreakerStateName = 'closed' | 'open' | 'half_open';

/**
 * Why a circuit is open: too many consecutive failures, a 429 with Retry-After
 * (docs/design.md#retry-after), a route-404 from a wrong pinned API version
 * (docs/design.md#wrong-api-version), or an operator's command.
 */
export type OpenReason = 'failures' | 'retry_after' | 'misconfigured' | 'manual';

/**
 * The breaker's durable state: plain JSON with wall-clock milliseconds, written by the caller on
 * every transition and handed back as `initial` to the next process (docs/design.md#memory).
 */
export interface BreakerSnapshot {
  state: BreakerStateName;
  consecutiveFailures: number;
  /** Wall-clock time of the last transition to open; null when it never opened or was reset. */
  openedAtWallMs: number | null;
  /** Wall-clock time from which a probe is allowed; null unless open. */
  nextProbeAtWallMs: number | null;
  /** Re-opens after failed probes since the circuit last closed; drives the backoff. */
  reopenCount: number;
  lastError: string | null;
  /** Why the circuit is (or last was) open; null when closed by success or reset. */
  reason: OpenReason | null;
}

/** Why a transition happened. */
export type TransitionReason = OpenReason | 'cooldown_elapsed' | 'probe_succeeded';

/** Emitted once per transition, for logs, metrics, WebSocket pushes and persistence. */
export interface BreakerTransition {
  from: BreakerStateName;
  to: BreakerStateName;
  reason: TransitionReason;
  consecutiveFailures: number;
  reopenCount: number;
  /** The cooldown that starts now; null unless `to` is 'open'. */
  cooldownMs: number | null;
  /** Monotonic time of the next probe; null unless `to` is 'open'. */
  retryAtMonoMs: number | null;
  error: string | null;
  /**
   * Calls refused since the previous transition, for a rate-limited summary line
   * (docs/design.md#memory Logs).
   */
  skippedCalls: number;
}

const STATE_NAMES: ReadonlySet<string> = new Set(['closed', 'open', 'half_open']);
const OPEN_REASONS: ReadonlySet<string> = new Set([
  'failures',
  'retry_after',
  'misconfigured',
  'manual',
]);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isTimeOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Checks a value read back from storage. Returns a list of problems, empty when the value is a
 * valid {@link BreakerSnapshot}; a caller that gets problems should log them and start closed.
 */
export function checkBreakerSnapshot(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['snapshot is not an object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof v.state !== 'string' || !STATE_NAMES.has(v.state)) problems.push('bad state');
  if (!isCount(v.consecutiveFailures)) problems.push('bad consecutiveFailures');
  if (!isCount(v.reopenCount)) problems.push('bad reopenCount');
  if (!isTimeOrNull(v.openedAtWallMs)) problems.push('bad openedAtWallMs');
  if (!isTimeOrNull(v.nextProbeAtWallMs)) problems.push('bad nextProbeAtWallMs');
  if (v.lastError !== null && typeof v.lastError !== 'string') problems.push('bad lastError');
  if (v.reason !== null && (typeof v.reason !== 'string' || !OPEN_REASONS.has(v.reason))) {
    problems.push('bad reason');
  }
  return problems;
}
