/**
 * @module One log line per breaker transition (docs/design.md#memory-logs): `circuit OPEN after 5
 * failures`, `half-open probe`, `closed`. While misconfigured, each re-check (once per
 * cooldown_max) is one line: the half-open step is logged at debug, the renewed open at warn
 * (docs/design.md#wrong-api-version).
 */
import type { CircuitBreaker } from '../breaker/breaker.ts';
import type { BreakerTransition } from '../breaker/state.ts';
import type { Logger } from '../lib/log.ts';

/** The message of a transition's log line. */
function transitionMessage(event: BreakerTransition): string {
  if (event.to === 'closed') return event.reason === 'manual' ? 'closed by operator' : 'closed';
  if (event.to === 'half_open') return 'half-open probe';
  switch (event.reason) {
    case 'misconfigured':
      return event.from === 'half_open'
        ? 'circuit OPEN: memory service still misconfigured'
        : 'circuit OPEN: memory service misconfigured (wrong memory.zep.api_version, base_url or api_key)';
    case 'retry_after':
      return 'circuit OPEN: rate limited (429 Retry-After)';
    case 'manual':
      return 'circuit OPEN by operator';
    default:
      return event.from === 'half_open'
        ? 'circuit OPEN again: half-open probe failed'
        : `circuit OPEN after ${event.consecutiveFailures} failures`;
  }
}

/** Writes the transition's line with its fields; `adopted`: another instance made it (cluster). */
export function logTransition(
  logger: Logger,
  event: BreakerTransition,
  breaker: CircuitBreaker,
  adopted = false,
): void {
  const fields = {
    from: event.from,
    to: event.to,
    reason: event.reason,
    cooldownMs: event.cooldownMs,
    reopenCount: event.reopenCount,
    error: event.error,
    skippedCalls: event.skippedCalls,
  };
  const message = adopted
    ? `${transitionMessage(event)} (shared: another instance decided)`
    : transitionMessage(event);
  if (event.to === 'half_open' && breaker.openReason === 'misconfigured')
    logger.debug(message, fields);
  else if (event.to === 'open') logger.warn(message, fields);
  else logger.info(message, fields);
}
