/**
 * @module The breaker's tunables, in milliseconds, and their validation. Config keys arrive here
 * already converted (breaker.cooldown_s → cooldownMs) by the config layer.
 */

/** The tunable part of the breaker's options; every field can change at run time. */
export interface BreakerSettings {
  /** Consecutive failures that open a closed circuit (breaker.failure_threshold). */
  failureThreshold: number;
  /** First cooldown of an open circuit (breaker.cooldown_s). */
  cooldownMs: number;
  /** Cap of the grown cooldown, and the re-check period when misconfigured (breaker.cooldown_max_s). */
  cooldownMaxMs: number;
  /** Factor applied to the cooldown per failed probe (breaker.backoff). */
  backoff: number;
  /** Probes allowed at once while half-open (breaker.half_open_max_calls). */
  halfOpenMaxCalls: number;
  /** Relative jitter of each cooldown; 0.1 is ±10 %. */
  jitterRatio: number;
  /**
   * How long a half-open probe may stay unsettled before the breaker counts it as failed. The
   * caller bounds every call with its own timeout (memory.timeout_ms); this is only the backstop
   * against a permit that is never settled (resilience4j #903), so keep it above that timeout.
   */
  probeTimeoutMs: number;
}

/** Defaults for the optional settings. */
export const DEFAULT_JITTER_RATIO = 0.1;

/**
 * Checks every setting and the relations between them, returning one message per problem
 * (empty when valid); each message names the field and the bad value.
 */
function checkBreakerSettings(s: BreakerSettings): string[] {
  const problems: string[] = [];
  const integerAtLeastOne = (name: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 1)
      problems.push(`${name} must be an integer ≥ 1, got ${v}`);
  };
  const finiteAtLeast = (name: string, v: number, min: number) => {
    if (!Number.isFinite(v) || v < min)
      problems.push(`${name} must be a number ≥ ${min}, got ${v}`);
  };
  integerAtLeastOne('failureThreshold', s.failureThreshold);
  integerAtLeastOne('halfOpenMaxCalls', s.halfOpenMaxCalls);
  finiteAtLeast('cooldownMs', s.cooldownMs, 0);
  finiteAtLeast('cooldownMaxMs', s.cooldownMaxMs, 0);
  finiteAtLeast('backoff', s.backoff, 1);
  finiteAtLeast('probeTimeoutMs', s.probeTimeoutMs, 1);
  if (!(s.jitterRatio >= 0 && s.jitterRatio < 1)) {
    problems.push(`jitterRatio must be in [0, 1), got ${s.jitterRatio}`);
  }
  if (s.cooldownMaxMs < s.cooldownMs) {
    problems.push(`cooldownMaxMs (${s.cooldownMaxMs}) must be ≥ cooldownMs (${s.cooldownMs})`);
  }
  return problems;
}

/**
 * Throws when the settings are invalid: a programming or config-layer error, since config
 * validation reports the same ranges to the operator first.
 * @throws RangeError listing every problem
 */
export function assertBreakerSettings(s: BreakerSettings): void {
  const problems = checkBreakerSettings(s);
  if (problems.length > 0) throw new RangeError(`invalid breaker settings: ${problems.join('; ')}`);
}
