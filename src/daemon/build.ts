/**
 * @module Builds a running daemon from config: the memory service, the hub (once, shared by
 * realtime and the cluster fan-out), the realtime layer, and the app composed in one typed chain
 * of the base, realtime, API, admin and asset routes. Kept apart from the lifecycle (daemon.ts)
 * so each stays small.
 */
import type { TurnRunner } from '../assistant/runner.ts';
import type { Config } from '../config/schema.ts';
import { type AdminPort, adminRoutes } from '../http/admin.ts';
import { apiRoutes } from '../http/api.ts';
import { createApp } from '../http/app.ts';
import { clientAssetRoutes } from '../http/client-assets.ts';
import { openapiRoutes } from '../http/openapi.ts';
import { turnRoutes, UPLOAD_SLACK_BYTES } from '../http/turns.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { MemoryService } from '../memory/service.ts';
import { Gauge, type Metrics } from '../metrics/registry.ts';
import { mintToken } from '../realtime/auth.ts';
import { observingSnapshots } from '../realtime/cluster-fanout.ts';
import { InProcessFanout } from '../realtime/fanout.ts';
import type { Hub } from '../realtime/hub.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import {
  createHub,
  createRealtime,
  type Realtime,
  type WebSocketOptions,
} from '../realtime/plugin.ts';
import { CLOSE } from '../realtime/protocol.ts';
import type { StorageHandle } from '../storage/open-storage.ts';
import { adminPortOf, memoryPortOf, readinessOf, recordTransitions } from './adapters.ts';
import { assistantOf, type DaemonAssistant } from './assistant.ts';
import { usesDevKey, verifierOf } from './auth.ts';
import { type ClusterRuntime, createCluster } from './cluster.ts';
import { createMemoryService, memorySettingsOf } from './memory.ts';
import type { RuntimeConfig } from './runtime-config.ts';

/** Everything the lifecycle drives. */
export interface BuiltDaemon {
  app: DaemonApp;
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

/** The HTTP + WebSocket app as {@link composeApp} types it. */
export type DaemonApp = ReturnType<typeof composeApp>;

/** Inputs of {@link buildDaemon}. */
export interface BuildOptions {
  runtime: RuntimeConfig;
  storage: StorageHandle;
  /** This instance's id (carried by readyz, metrics and the admin status in cluster mode). */
  instanceId: string;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
}

/** Builds the services and the app; starts the outbox flusher. */
export async function buildDaemon(input: BuildOptions): Promise<BuiltDaemon> {
  const { storage, metrics, logger, runtime } = input;
  const store = storage.store;
  const config = runtime.config;
  const phase: BuiltDaemon['phase'] = { value: 'starting' };
  const startedAtMonoMs = performance.now();
  const memory = await createMemoryService({ config, store, metrics, logger });
  const transitions = recordTransitions(memory);
  const memoryPort = memoryPortOf(memory);
  const hub = createHub(config, logger);
  const cluster = clusterOf(input, hub, memory);
  const fanout = cluster?.fanout ?? new InProcessFanout(logger);
  const assistant = await assistantOf({ ...input, memory: memoryPort, fanout, hub });
  const realtime = createRealtime({
    config,
    store: cluster === undefined ? store : observingSnapshots(store, cluster.fanout),
    memory: memoryPort,
    verifier: await verifierOf(config, storage.devJwtSecret, input.clock),
    hub,
    fanout,
    metrics,
    logger,
    clock: input.clock,
    ...(assistant === undefined ? {} : { assistant: assistant.port }),
  });
  if (cluster !== undefined) instanceInfo(metrics, cluster.instanceId);
  runtime.onChange((next) => {
    applyLive(next, memory, realtime, logger);
    assistant?.applyConfig(next);
  });
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
    ...(assistant === undefined ? {} : { assistant: assistant.runner }),
  });
  const app = composeApp(input, { phase, memory, memoryPort, realtime, admin, cluster, assistant });
  memory.start();
  void assistant
    ?.start()
    .catch((error: unknown) => logger.error('assistant start failed', { error }));
  return {
    app,
    memory,
    realtime,
    websocket: realtime.websocketOptions,
    phase,
    cluster,
    beforeClose: async (deadlineMs) => {
      await assistant?.stop();
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

/** The services the routes are built over. */
interface AppServices {
  phase: BuiltDaemon['phase'];
  memory: MemoryService;
  memoryPort: MemoryPort;
  realtime: Realtime;
  admin: AdminPort;
  cluster: ClusterRuntime | undefined;
  assistant: DaemonAssistant | undefined;
}

/** The app in one typed chain: the base (http/app.ts), then realtime, the API, admin, assets. */
function composeApp(input: BuildOptions, services: AppServices) {
  const { storage, metrics, logger, runtime, clock } = input;
  const { phase, memory, realtime, cluster, assistant } = services;
  const store = storage.store;
  const apiKey = () => runtime.config.auth.api_key;
  const devJwtSecret = storage.devJwtSecret;
  return createApp({
    readiness: readinessOf(
      () => phase.value,
      store,
      memory,
      () => realtime.connectionCount(),
      cluster?.instanceId,
    ),
    metrics,
    logger,
    refreshMetrics: () => refreshGauges(storage, metrics, assistant?.runner),
    gate: {
      apiKey,
      maxBodyBytes: () => runtime.config.server.max_payload_bytes,
      ...(assistant === undefined
        ? {}
        : { maxUploadBytes: () => runtime.config.assistant.max_reply_bytes + UPLOAD_SLACK_BYTES }),
    },
  })
    .use(realtime.plugin)
    .use(apiRoutes({ apiKey, store, memory: services.memoryPort, realtime }))
    .use(turnRoutes({ apiKey, store, ...(assistant === undefined ? {} : { assistant }) }))
    .use(adminRoutes({ apiKey, admin: services.admin }))
    .use(openapiRoutes())
    .use(clientAssetRoutes(devJwtSecret ? demoTokens(runtime.config, devJwtSecret, clock) : {}));
}

/** In dev mode (the generated key) the demo page gets a token for the `demo` user. */
function demoTokens(config: Config, devJwtSecret: () => string, clock: Clock) {
  if (!usesDevKey(config)) return {};
  const devToken = async () =>
    mintToken({ secret: devJwtSecret(), userId: 'demo', ttlS: 3600, clock });
  return { devToken };
}

async function refreshGauges(
  storage: StorageHandle,
  metrics: Metrics,
  assistant: Pick<TurnRunner, 'stats'> | undefined,
): Promise<void> {
  if (assistant !== undefined) {
    const turns = assistant.stats();
    metrics.assistantStreams.set(turns.streaming);
    metrics.assistantQueuedTurns.set(turns.queued);
  }
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

/** On PostgreSQL, the cluster runtime with its fan-out over the hub's sockets; none on SQLite. */
function clusterOf(
  input: BuildOptions,
  hub: Hub,
  memory: MemoryService,
): ClusterRuntime | undefined {
  const { storage, logger } = input;
  if (storage.clusterPool === undefined) return undefined;
  return createCluster({
    instanceId: input.instanceId,
    side: storage.clusterPool(),
    store: storage.store,
    hasLocal: (userId) => hub.socketsOf(userId).length > 0,
    closeLocal: (userId) => {
      for (const socket of hub.socketsOf(userId)) {
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
