/**
 * @module The daemon's assistant (docs/assistant.md): the turn runner over the configured source —
 * the built-in demo, or the app's own assistant over HTTP behind its own persisted circuit — or
 * nothing when `assistant.backend = "none"`.
 */
import { AssistantCircuit } from '../assistant/circuit.ts';
import { demoSource } from '../assistant/demo.ts';
import type { AssistantHttpOptions } from '../assistant/http-backend.ts';
import { TurnRunner } from '../assistant/runner.ts';
import type { AttemptSource } from '../assistant/source.ts';
import type { UploadOptions } from '../assistant/uploads.ts';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { AssistantPort } from '../realtime/assistant-port.ts';
import type { Fanout } from '../realtime/fanout.ts';
import type { Hub } from '../realtime/hub.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import type { PushFrame, ServerFrame } from '../realtime/protocol.ts';
import type { PgHandle } from '../storage/postgres/open.ts';
import type { Store } from '../storage/store.ts';
import { type AssistantCluster, assistantClusterOf } from './assistant-cluster.ts';
import { breakerSettingsOf } from './memory.ts';

/** What the runner is built over. */
export interface AssistantParts {
  /** The live config (runtime overrides included). */
  runtime: { readonly config: Config };
  storage: { readonly store: Store; readonly clusterPool?: (() => PgHandle) | undefined };
  /** This instance's id (holds the turn leases in cluster mode). */
  instanceId: string;
  memory: MemoryPort;
  fanout: Fanout;
  hub: Hub;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** The assistant circuit's settings: `assistant.breaker.*` where set, else the `breaker.*` keys, in ms. */
function circuitSettingsOf(config: Config) {
  const own = Object.fromEntries(
    Object.entries(config.assistant.breaker).filter(([, value]) => value !== undefined),
  );
  // A probe holds its permit until the first reply text: bound it by the first-byte timeout.
  return breakerSettingsOf(
    { ...config.breaker, ...own },
    config.assistant.first_byte_timeout_ms * 2,
  );
}

/**
 * Bun's fetch runs at most `BUN_CONFIG_MAX_HTTP_REQUESTS` (256) requests at once and queues the
 * rest silently: more streams than that would wait inside fetch, not in lifeline's slots.
 */
function warnOnFetchLimit(config: Config, logger: Logger): void {
  const limit = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? '256');
  if (config.assistant.max_in_flight <= limit) return;
  logger.warn('assistant.max_in_flight is above what Bun lets fetch run at once', {
    max_in_flight: config.assistant.max_in_flight,
    fetch_limit: limit,
    fix: `set BUN_CONFIG_MAX_HTTP_REQUESTS=${config.assistant.max_in_flight} in the daemon's environment, or lower assistant.max_in_flight`,
  });
}

/** The daemon's own address as the assistant reaches it (`reply_url`). */
function baseUrlOf(config: Config): string {
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const reachable = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${reachable}:${config.server.port}`;
}

/** The daemon's assistant: the runner, and what its upload route needs. */
export interface DaemonAssistant {
  runner: TurnRunner;
  /** The runner as the realtime layer uses it (with other instances' replies in cluster mode). */
  port: AssistantPort;
  upload(): UploadOptions;
  /** Applies a changed config to what does not read it live (the circuit's `breaker.*`). */
  applyConfig(config: Config): void;
  /** Starts taking turns (the ones left open first). */
  start(): Promise<void>;
  /** Stops taking turns (runner.stop) and, in cluster mode, the poll and the LISTEN. */
  stop(): Promise<void>;
}

/** The HTTP backend as a source, its circuit, and the notice of a cancelled deferred turn. */
async function httpPartsOf(
  parts: AssistantParts,
  logger: Logger,
): Promise<{
  source: AttemptSource;
  circuit?: AssistantCircuit;
  onDeferredCancel?: (turnId: string) => void;
}> {
  warnOnFetchLimit(parts.runtime.config, logger);
  // Loaded only with an HTTP assistant: the demo and `none` never load the signing library.
  const { announceCancel, deliverTurn } = await import('../assistant/http-backend.ts');
  const http = () => httpOptionsOf(parts.runtime.config);
  return {
    source: (turnId, body, onText, signal) => deliverTurn(http(), turnId, body, onText, signal),
    circuit: await assistantCircuitOf(parts),
    onDeferredCancel: (turnId) => {
      void announceCancel(http(), turnId, AbortSignal.timeout(10_000)).then((answer) => {
        if (!answer.ok)
          logger.warn('turn.cancelled not delivered', { turn_id: turnId, error: answer.message });
      });
    },
  };
}

/** The turn runner for the configured backend, or undefined for `none`. */
export async function assistantOf(parts: AssistantParts): Promise<DaemonAssistant | undefined> {
  const config = parts.runtime.config;
  const backend = config.assistant.backend;
  if (backend === 'none') return undefined;
  const logger = parts.logger.child({ component: 'assistant' });
  const { source, circuit, onDeferredCancel } =
    backend === 'http' ? await httpPartsOf(parts, logger) : { source: demoSource() };
  const cluster = await clusterPartOf(parts, logger);
  const context = {
    store: parts.storage.store,
    memory: parts.memory,
    fanOut: (userId: string, frame: PushFrame) => {
      cluster?.published(userId, frame);
      return parts.fanout.publish(userId, frame);
    },
    deliver: (userId: string, frame: ServerFrame) => {
      parts.hub.deliver(userId, frame);
      cluster?.published(userId, frame);
    },
    clock: parts.clock,
    logger,
    metrics: parts.metrics,
  };
  const runner = new TurnRunner({
    ...context,
    config: () => parts.runtime.config,
    source,
    ...(circuit === undefined ? {} : { circuit }),
    ...(onDeferredCancel === undefined ? {} : { onDeferredCancel }),
    baseUrl: () => baseUrlOf(parts.runtime.config),
    ...(cluster === undefined ? {} : { leases: cluster.leases }),
  });
  const upload = (): UploadOptions => ({
    ...context,
    runner,
    limits: {
      maxReplyBytes: parts.runtime.config.assistant.max_reply_bytes,
      idleTimeoutMs: parts.runtime.config.assistant.idle_timeout_ms,
    },
  });
  const applyConfig = (next: Config) => {
    circuit?.update(circuitSettingsOf(next));
  };
  return {
    runner,
    port: cluster?.portOf(runner) ?? runner,
    upload,
    applyConfig,
    async start() {
      await runner.start();
      cluster?.poll(runner);
    },
    async stop() {
      await runner.stop();
      await cluster?.stop();
    },
  };
}

/** The cluster part (postgres backend), or undefined. */
async function clusterPartOf(
  parts: AssistantParts,
  logger: Logger,
): Promise<AssistantCluster | undefined> {
  const side = parts.storage.clusterPool?.();
  if (side === undefined) return undefined;
  const { instanceId, hub, clock } = parts;
  return assistantClusterOf({ instanceId, side, store: parts.storage.store, hub, clock, logger });
}

/** The HTTP backend's settings, read from the live config on every request. */
export function httpOptionsOf(config: Config): AssistantHttpOptions {
  return {
    url: config.assistant.url ?? '',
    secret: config.assistant.secret ?? '',
    firstByteTimeoutMs: config.assistant.first_byte_timeout_ms,
    idleTimeoutMs: config.assistant.idle_timeout_ms,
    maxReplyBytes: config.assistant.max_reply_bytes,
  };
}

/** The assistant's circuit, loaded from the store. */
async function assistantCircuitOf(parts: AssistantParts): Promise<AssistantCircuit> {
  return AssistantCircuit.open({
    store: parts.storage.store,
    settings: circuitSettingsOf(parts.runtime.config),
    clock: parts.clock,
    logger: parts.logger.child({ component: 'assistant' }),
    metrics: parts.metrics,
  });
}
