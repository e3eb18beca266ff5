/**
 * @module Builds the parts of a running daemon from config: the memory service, the realtime
 * layer, the HTTP API and admin routes, and the app that mounts them. Kept apart from the
 * lifecycle so each stays small.
 */
import type { Elysia } from 'elysia';
import { Gauge } from 'prom-client';
import type { Config } from '../config/schema.ts';
import { adminRoutes } from '../http/admin.ts';
import { apiRoutes } from '../http/api.ts';
import { createApp } from '../http/app.ts';
import { clientAssetRoutes } from '../http/client-assets.ts';
import type { Readiness } from '../http/health.ts';
import { openapiRoutes } from '../http/openapi.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { MemoryService } from '../memory/service.ts';
import type { Metrics } from '../metrics/registry.ts';
import { mintToken } from '../realtime/auth.ts';
import { observingSnapshots } from '../realtime/cluster-fanout.ts';
import { type Fanout, InProcessFanout } from '../realtime/fanout.ts';
import type { Hub } from '../realtime/hub.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import { createRealtime, type Realtime, type WebSocketOptions } from '../realtime/plugin.ts';
import { CLOSE } from '../realtime/protocol.ts';
import type { StorageHandle } from '../storage/open-storage.ts';
import type { Store } from '../storage/store.ts';
import { usesDevKey, verifierOf } from './auth.ts';
import { type ClusterRuntime, createCluster } from './cluster.ts';
import { createMemoryService, memorySettingsOf } from './memory.ts';
import { adminPortOf, memoryPortOf, recordTransitions } from './adapters.ts';
import type { RuntimeConfig } from './runtime-config.ts';

/** Everything the lifecycle drives. */
export interface Parts {
  app: Elysia;
  memory: MemoryService;
  realtime: Realtime;
  websocket: WebSocketOptions;
  phase: { value: 'starting' | 'ready' | 'draining' };
  /** Cluster membership and fan-out (postgres backend only). */
  cluster?: ClusterRuntime;
  /** Runs before the listener closes: tell clients to reconnect, close sockets, flush the outbox. */
  beforeClose(deadlineMs: number): Promise<void>;
  /** Runs after the listener closed: stop timers and wait for deliveries still in flight. */
  afterClose(deadlineMs: number): Promise<void>;
}

/** Inputs of {@link buildParts}. */
export interface PartsInput {
  runtime: RuntimeConfig;
  storage: StorageHandle;
  /** This instance's id (carried by readyz, metrics and the admin status in cluster mode). */
  instanceId: string;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}

/** Builds the services and the app; starts the outbox flusher. */
export async function buildParts(input: PartsInput): Promise<Parts> {
  const { storage, metrics, logger, runtime, clock } = input;
  const store = storage.store;
  const config = runtime.config;
  const phase: Parts['phase'] = { value: 'starting' };
  const startedAtMonoMs = performance.now();
  const memory = await createMemoryService({ config, store, metrics, logger });
  const transitions = recordTransitions(memory);
  const memoryPort = memoryPortOf(memory);
  const devJwtSecret = storage.devJwtSecret;
  const { realtime, cluster } = await buildRealtime(input, memoryPort, memory);
  runtime.onChange((next) => applyLive(next, memory, realtime, logger));
  const apiKey = () => runtime.config.auth.api_key;
  const admin = adminPortOf({
    memory,
    store,
    runtime,
    phase: () =>
      phase.value === 'ready' && !store.storageHealth().ok ? 'unavailable' : phase.value,
    connections: () => realtime.connectionCount(),
    transitions,
    startedAtMonoMs,
    metrics,
    cluster,
  });
  const plugins = [
    realtime.plugin,
    apiRoutes({ apiKey, store, memory: memoryPort, realtime }),
    adminRoutes({ apiKey, admin }),
    openapiRoutes(),
    clientAssetRoutes(devJwtSecret ? demoTokens(config, devJwtSecret, clock) : {}),
  ] as unknown as Array<Elysia<string>>;
  const app = createApp({
    readiness: readinessOf(phase, store, memory, realtime, cluster?.instanceId),
    metrics,
    logger,
    refreshMetrics: () => refreshGauges(storage, metrics),
    plugins,
    gate: { apiKey, maxBodyBytes: () => runtime.config.server.max_payload_bytes },
  }) as unknown as Elysia;
  memory.start();
  return {
    app,
    memory,
    realtime,
    websocket: realtime.websocketOptions,
    phase,
    cluster,
    beforeClose: async (deadlineMs) => {
      await realtime.drain({ windowMs: runtime.config.shutdown.reconnect_window_s * 1000 });
      // The listener stays open while the outbox flushes, so a load balancer polling /readyz sees
      // 503 (every other route answers 503 too, docs/design.md#operations).
      const report = await memory.drain(Math.max(0, deadlineMs - performance.now()));
      logger.info('outbox drained', { ...report });
    },
    afterClose: async () => {
      realtime.stop();
      await memory.stop();
    },
  };
}

/** The realtime layer over the right fan-out (and, in cluster mode, the cluster runtime). */
async function buildRealtime(
  input: PartsInput,
  memory: MemoryPort,
  service: MemoryService,
): Promise<{ realtime: Realtime; cluster?: ClusterRuntime }> {
  const { storage, metrics, logger, clock } = input;
  const config = input.runtime.config;
  const wiring = fanoutOf(input, service);
  const realtime = createRealtime({
    config,
    store: wiring.realtimeStore,
    memory,
    verifier: await verifierOf(config, storage.devJwtSecret, clock),
    fanout: wiring.fanout,
    metrics,
    logger,
    clock,
  });
  wiring.bindHub(realtime.hub);
  if (wiring.cluster) instanceInfo(metrics, wiring.cluster.instanceId);
  return { realtime, cluster: wiring.cluster };
}

/** In dev mode (the generated key) the demo page gets a token for the `demo` user. */
function demoTokens(config: Config, devJwtSecret: () => string, clock: Clock) {
  if (!usesDevKey(config)) return {};
  const devToken = async () =>
    mintToken({ secret: devJwtSecret(), userId: 'demo', ttlS: 3600, clock });
  return { devToken };
}

async function refreshGauges(storage: StorageHandle, metrics: Metrics): Promise<void> {
  const outbox = await storage.store.outboxStats();
  metrics.outboxDepth.set(outbox.pending);
  metrics.outboxDead.set(outbox.dead);
  metrics.historyEvents.set(await storage.historyCount());
}

/** `lifeline_instance_info{instance_id}` = 1: joins every other series of this process to its id. */
function instanceInfo(metrics: Metrics, instanceId: string): void {
  const gauge = new Gauge({
    name: 'lifeline_instance_info',
    help: 'This instance (cluster mode); always 1, labelled with the instance id.',
    labelNames: ['instance_id'],
    registers: [metrics.registry],
  });
  gauge.set({ instance_id: instanceId }, 1);
}

/** The fan-out: in-process on SQLite; on PostgreSQL the cluster fan-out with its LISTEN. */
function fanoutOf(
  input: PartsInput,
  memory: MemoryService,
): {
  fanout: Fanout;
  realtimeStore: Store;
  cluster?: ClusterRuntime;
  bindHub(hub: Hub): void;
} {
  const { storage, logger } = input;
  if (storage.clusterPool === undefined) {
    return { fanout: new InProcessFanout(logger), realtimeStore: storage.store, bindHub: () => {} };
  }
  let hub: Hub | undefined;
  const cluster = createCluster({
    instanceId: input.instanceId,
    side: storage.clusterPool(),
    store: storage.store,
    hasLocal: (userId) => (hub?.socketsOf(userId).length ?? 0) > 0,
    closeLocal: (userId) => {
      for (const socket of hub?.socketsOf(userId) ?? []) {
        try {
          socket.close(CLOSE.restart, 'resume: events were missed');
        } catch {
          // Already closing.
        }
      }
    },
    onBreakerChanged: () => void memory.syncShared(),
    logger,
    clock: input.clock,
  });
  return {
    fanout: cluster.fanout,
    realtimeStore: observingSnapshots(storage.store, cluster.fanout),
    cluster,
    bindHub: (bound) => {
      hub = bound;
    },
  };
}

function applyLive(
  config: Config,
  memory: MemoryService,
  realtime: Realtime,
  logger: Logger,
): void {
  memory.updateSettings(memorySettingsOf(config));
  realtime.updateLimits(config);
  logger.setLevel(config.log.level);
}

function readinessOf(
  phase: Parts['phase'],
  store: Store,
  memory: MemoryService,
  realtime: Realtime,
  instanceId: string | undefined,
): Readiness {
  return {
    phase: () => phase.value,
    unavailableReason: () => {
      const health = store.storageHealth();
      return health.ok ? undefined : `storage: ${health.reason ?? 'unavailable'}`;
    },
    details: async () => {
      const outbox = await store.outboxStats();
      const circuit = memory.circuit();
      const next = circuit.snapshot.nextProbeAtWallMs;
      return {
        memory: { backend: circuit.backend, status: circuit.status },
        breaker: {
          state: circuit.snapshot.state,
          next_probe_at: next === null ? null : new Date(next).toISOString(),
        },
        outbox: { pending: outbox.pending, dead: outbox.dead },
        connections: realtime.connectionCount(),
        ...(instanceId === undefined ? {} : { instance_id: instanceId }),
      };
    },
  };
}
