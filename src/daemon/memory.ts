/**
 * @module Maps config to the memory layer: the backend, the breaker-protected service and its
 * preflight check. Config keys keep the design's units (s, ms); they become ms here.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/log.ts';
import { memoryCheck } from '../memory/checks.ts';
import type { MemoryBackend } from '../memory/client.ts';
import { LocalBackend } from '../memory/local.ts';
import type { OutboxSettings } from '../memory/outbox-flusher.ts';
import {
  type BreakerOptionsMs,
  MemoryService,
  type MemorySettingsUpdate,
} from '../memory/service.ts';
import { createZepBackend, type ZepBackend } from '../memory/zep/backend.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Check } from '../preflight/check.ts';
import { withExistingStore } from '../storage/open-storage.ts';
import type { SharedConnections } from '../storage/sqlite/open.ts';
import type { Store, StoredBreakerState } from '../storage/store.ts';

/** The Zep backend for `config`, or null for the local one. */
function zepBackendOf(config: Config): ZepBackend | null {
  if (config.memory.backend !== 'zep') return null;
  return createZepBackend({
    baseUrl: config.memory.zep.base_url ?? '',
    apiVersion: config.memory.zep.api_version,
    apiKey: config.memory.zep.api_key,
    timeoutMs: config.memory.timeout_ms,
    maxMessageChars: config.memory.zep.max_message_chars,
  });
}

/** A `[breaker]`-shaped section in ms, with the probe's backstop (the schema holds the defaults). */
export function breakerSettingsOf(
  breaker: Config['breaker'],
  probeTimeoutMs: number,
): BreakerOptionsMs & { probeTimeoutMs: number } {
  return {
    failureThreshold: breaker.failure_threshold,
    cooldownMs: breaker.cooldown_s * 1000,
    cooldownMaxMs: breaker.cooldown_max_s * 1000,
    backoff: breaker.backoff,
    halfOpenMaxCalls: breaker.half_open_max_calls,
    probeTimeoutMs,
  };
}

/** The memory breaker's settings: a probe that never settles fails after twice the timeout. */
function breakerOptionsOf(config: Config): BreakerOptionsMs & { probeTimeoutMs: number } {
  return breakerSettingsOf(config.breaker, config.memory.timeout_ms * 2);
}

/** The outbox settings of `config`. */
function outboxOptionsOf(config: Config): OutboxSettings {
  return {
    batchSize: config.outbox.batch_size,
    flushIntervalMs: config.outbox.flush_interval_ms,
    maxInFlight: config.outbox.max_in_flight,
  };
}

/** The runtime-tunable memory settings of `config`, in ms. */
export function memorySettingsOf(config: Config): Required<MemorySettingsUpdate> {
  return {
    breaker: breakerOptionsOf(config),
    outbox: outboxOptionsOf(config),
    timeoutMs: config.memory.timeout_ms,
  };
}

/** Builds the memory service (not started) over `store`. */
export async function createMemoryService(input: {
  config: Config;
  store: Store;
  metrics: Metrics;
  logger: Logger;
}): Promise<MemoryService> {
  const backend: MemoryBackend = zepBackendOf(input.config) ?? new LocalBackend(input.store);
  return MemoryService.create({
    store: input.store,
    backend,
    breaker: breakerOptionsOf(input.config),
    outbox: outboxOptionsOf(input.config),
    metrics: input.metrics,
    logger: input.logger,
  });
}

/**
 * The preflight memory check. It reads the persisted circuit from the database when it exists
 * (docs/design.md#preflight-open-circuit: no request while it is open) and never creates the
 * database itself.
 */
export function memoryPreflightCheck(config: Config, share?: SharedConnections): Check {
  return memoryCheck({
    zep: zepBackendOf(config),
    store: {
      loadBreakerState: async (backend) => readPersistedCircuit(config, backend, share),
      saveBreakerState: async () => {},
    },
  });
}

async function readPersistedCircuit(
  config: Config,
  backend: string,
  share: SharedConnections | undefined,
): Promise<StoredBreakerState | null> {
  // A database that cannot be read rejects: memoryCheck reads that as "not open", and the
  // database check reports the storage problem itself.
  const found = await withExistingStore(config, (store) => store.loadBreakerState(backend), share);
  return found ?? null;
}
