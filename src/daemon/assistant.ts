/**
 * @module The daemon's assistant (docs/assistant.md): the turn runner over the configured source —
 * the built-in demo, or the app's own assistant over HTTP behind its own persisted circuit — or
 * nothing when `assistant.backend = "none"`.
 */
import { AssistantCircuit } from '../assistant/circuit.ts';
import { demoSource } from '../assistant/demo.ts';
import { TurnRunner } from '../assistant/runner.ts';
import type { AttemptSource } from '../assistant/source.ts';
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

/** The assistant circuit's settings: the `breaker.*` keys, in ms. */
function circuitSettingsOf(config: Config) {
  return {
    failureThreshold: config.breaker.failure_threshold,
    cooldownMs: config.breaker.cooldown_s * 1000,
    cooldownMaxMs: config.breaker.cooldown_max_s * 1000,
    backoff: config.breaker.backoff,
    halfOpenMaxCalls: config.breaker.half_open_max_calls,
    // A probe holds its permit until the first reply text: bound it by the first-byte timeout.
    probeTimeoutMs: config.assistant.first_byte_timeout_ms * 2,
  };
}

/** The daemon's own address as the assistant reaches it (`reply_url`). */
function baseUrlOf(config: Config): string {
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const reachable = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${reachable}:${config.server.port}`;
}

/** The turn runner for the configured backend, or undefined for `none`. */
export async function assistantOf(parts: AssistantParts): Promise<TurnRunner | undefined> {
  const config = parts.runtime.config;
  const backend = config.assistant.backend;
  if (backend === 'none') return undefined;
  const logger = parts.logger.child({ component: 'assistant' });
  const source: AttemptSource = demoSource();
  let circuit: AssistantCircuit | undefined;
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
    logger,
    source,
    ...(circuit === undefined ? {} : { circuit }),
    baseUrl: () => baseUrlOf(parts.runtime.config),
  });
}

/** Exposed for the http backend wiring (next step): the circuit over the store. */
export async function assistantCircuitOf(parts: AssistantParts): Promise<AssistantCircuit> {
  return AssistantCircuit.open({
    store: parts.storage.store,
    settings: circuitSettingsOf(parts.runtime.config),
    clock: parts.clock,
    logger: parts.logger.child({ component: 'assistant' }),
  });
}
