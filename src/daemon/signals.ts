/**
 * @module SIGTERM/SIGINT handling (docs/design.md#operations): the first signal starts a graceful
 * drain; a second one exits at once. SQLite's WAL keeps the database consistent even then: every
 * acknowledged write was committed with synchronous=FULL before its ack.
 */
import type { Logger } from '../lib/log.ts';

/** Resolves with the signal name at the first SIGTERM or SIGINT. */
export function trapSignals(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (seen) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      seen = true;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
