/**
 * @module The daemon's assistant: the demo turn runner when `assistant.backend = "demo"`, nothing
 * when `none`. The `http` backend is not in this build yet: starting with it is refused with a
 * clear error rather than accepting messages whose turns nothing would answer
 * (docs/decisions.md "Assistant turns, first slice").
 */
import { TurnRunner } from '../assistant/runner.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { LifelineError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Fanout } from '../realtime/fanout.ts';
import type { Hub } from '../realtime/hub.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import type { Store } from '../storage/store.ts';

/** What the runner is built over. */
export interface AssistantParts {
  /** The live config (runtime overrides included). */
  runtime: { readonly config: Config };
  storage: { readonly store: Store };
  memory: MemoryPort;
  fanout: Fanout;
  hub: Hub;
  clock: Clock;
  logger: Logger;
}

/** The turn runner for the configured backend, or undefined for `none`. */
export function assistantOf(parts: AssistantParts): TurnRunner | undefined {
  const backend = parts.runtime.config.assistant.backend;
  if (backend === 'none') return undefined;
  if (backend === 'http') {
    throw new LifelineError(
      'config_invalid',
      'assistant.backend = "http" is not available in this version of lifeline',
      { fix: 'use assistant.backend = "demo" or "none"' },
    );
  }
  return new TurnRunner({
    store: parts.storage.store,
    memory: parts.memory,
    fanOut: (userId, frame) => parts.fanout.publish(userId, frame),
    deliver: (userId, frame) => {
      parts.hub.deliver(userId, frame);
    },
    config: () => parts.runtime.config,
    clock: parts.clock,
    logger: parts.logger.child({ component: 'assistant' }),
  });
}
