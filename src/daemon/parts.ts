/**
 * @module Builds the parts of a running daemon from config: the memory service, the realtime hub,
 * the HTTP app. Kept apart from the lifecycle so each stays small.
 */
import type { Elysia } from 'elysia';
import type { Config } from '../config/schema.ts';
import { createApp } from '../http/app.ts';
import type { Readiness } from '../http/health.ts';
import type { Logger } from '../lib/log.ts';
import type { MemoryService } from '../memory/service.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Store } from '../storage/store.ts';
import { createMemoryService, memorySettingsOf } from './memory.ts';
import type { RuntimeConfig } from './runtime-config.ts';

/** Everything the lifecycle drives. */
export interface Parts {
  app: Elysia;
  memory: MemoryService;
  phase: { value: 'starting' | 'ready' | 'draining' };
  /** Runs before the listener closes: tell clients to reconnect, close sockets. */
  beforeClose(deadlineMs: number): Promise<void>;
  /** Runs after the listener closed: flush the outbox within the deadline. */
  afterClose(deadlineMs: number): Promise<void>;
}

/** Inputs of {@link buildParts}. */
export interface PartsInput {
  runtime: RuntimeConfig;
  store: Store;
  metrics: Metrics;
  logger: Logger;
}

/** Builds the services and the app; starts the outbox flusher. */
export async function buildParts(input: PartsInput): Promise<Parts> {
  const { store, metrics, logger, runtime } = input;
  const config = runtime.config;
  const phase: Parts['phase'] = { value: 'starting' };
  const memory = await createMemoryService({ config, store, metrics, logger });
  runtime.onChange((next) => applyLive(next, memory, logger));
  const readiness = readinessOf(phase, store, memory);
  const refreshMetrics = async () => {
    const outbox = await store.outboxStats();
    metrics.outboxDepth.set(outbox.pending);
    metrics.outboxDead.set(outbox.dead);
  };
  const app = createApp({ readiness, metrics, logger, refreshMetrics }) as unknown as Elysia;
  memory.start();
  return {
    app,
    memory,
    phase,
    beforeClose: async () => {},
    afterClose: async (deadlineMs) => {
      const report = await memory.drain(Math.max(0, deadlineMs - performance.now()));
      logger.info('outbox drained', { ...report });
      await memory.stop();
    },
  };
}

function applyLive(config: Config, memory: MemoryService, logger: Logger): void {
  memory.updateSettings(memorySettingsOf(config));
  logger.setLevel(config.log.level);
}

function readinessOf(phase: Parts['phase'], store: Store, memory: MemoryService): Readiness {
  return {
    phase: () => phase.value,
    unavailableReason: () => {
      const health = store.storageHealth();
      return health.ok ? undefined : `storage: ${health.reason ?? 'unavailable'}`;
    },
    details: async () => {
      const outbox = await store.outboxStats();
      const circuit = memory.circuit();
      return {
        memory: { backend: circuit.backend, status: circuit.status },
        breaker: {
          state: circuit.snapshot.state,
          next_probe_at: isoOrNull(circuit.snapshot.nextProbeAtWallMs),
        },
        outbox: { pending: outbox.pending, dead: outbox.dead },
      };
    },
  };
}

function isoOrNull(wallMs: number | null): string | null {
  return wallMs === null ? null : new Date(wallMs).toISOString();
}
