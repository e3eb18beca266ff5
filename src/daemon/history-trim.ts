/**
 * @module Keeps the replay history within `history.max_events` per user and `history.ttl_s`
 * (docs/design.md#configuration): a trim just after start and then once a minute, reading the limits live
 * so a runtime change applies at the next trim. Resume never depends on it: a trimmed gap already
 * means `recovered:false` (docs/design.md#epochs).
 */
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../storage/store.ts';

/** How often the history is trimmed. */
const HISTORY_TRIM_EVERY_MS = 60_000;

/**
 * Starts trimming: the first trim after `firstAfterMs` (default now; the daemon waits a second so
 * the trim's commit is not on the path to the first answers), then every `everyMs`. Returns the
 * function that stops it.
 */
export function startHistoryTrim(input: {
  store: Store;
  config: () => Config;
  clock: Clock;
  logger: Logger;
  everyMs?: number;
  firstAfterMs?: number;
}): () => void {
  let running = false;
  const trim = async () => {
    if (running) return;
    running = true;
    const { max_events: maxEvents, ttl_s: ttlS } = input.config().history;
    try {
      const removed = await input.store.trimHistory(maxEvents, ttlS * 1000, input.clock.wallMs());
      if (removed > 0) input.logger.debug('history trimmed', { removed });
    } catch (error) {
      input.logger.warn('trimming the replay history failed', { error: describeError(error) });
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void trim(), input.firstAfterMs ?? 0);
  first.unref();
  const timer = setInterval(() => void trim(), input.everyMs ?? HISTORY_TRIM_EVERY_MS);
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
