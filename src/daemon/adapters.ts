/**
 * @module Adapters from the daemon's services to the ports the upper layers declare
 * (docs/design.md#ports point 9: the consumer owns the interface): the realtime layer's MemoryPort,
 * the admin API's AdminPort and the health routes' Readiness, with the one circuit/outbox view
 * the last two show.
 */

import type { TurnRunner } from '../assistant/runner.ts';
import type { TransitionReason } from '../breaker/state.ts';
import { showConfig } from '../config/show.ts';
import type { AdminPort } from '../http/admin.ts';
import type { Readiness } from '../http/health.ts';
import type { AdminStatus, AdminStatusTransition } from '../http/status-page.ts';
import { buildInfo } from '../lib/build-info.ts';
import type { MemoryService } from '../memory/service.ts';
import { memoryLatencyMs } from '../metrics/latency.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import type { Store } from '../storage/store.ts';
import type { ClusterRuntime, ClusterView } from './cluster.ts';
import type { RuntimeConfig } from './runtime-config.ts';

/** How many breaker transitions the status page's timeline keeps. */
const TRANSITIONS_KEPT = 50;

/**
 * The memory service's circuit and the outbox as operators see them: the one formatter behind
 * `/readyz` (which shows a subset) and the admin status.
 */
async function circuitView(
  memory: Pick<MemoryService, 'circuit'>,
  store: Pick<Store, 'outboxStats'>,
) {
  const outbox = await store.outboxStats();
  const { backend, status, snapshot } = memory.circuit();
  const next = snapshot.nextProbeAtWallMs;
  return {
    memory: { backend, status },
    breaker: {
      state: snapshot.state,
      consecutive_failures: snapshot.consecutiveFailures,
      next_probe_at: next === null ? null : new Date(next).toISOString(),
      reopen_count: snapshot.reopenCount,
      last_error: snapshot.lastError,
    },
    outbox,
  };
}

/** `/readyz`'s view of the daemon: its phase, storage health, and a summary of the circuit. */
export function readinessOf(
  phase: () => 'starting' | 'ready' | 'draining',
  store: Store,
  memory: MemoryService,
  connections: () => number,
  instanceId: string | undefined,
): Readiness {
  return {
    phase,
    unavailableReason: () => {
      const health = store.storageHealth();
      return health.ok ? undefined : `storage: ${health.reason ?? 'unavailable'}`;
    },
    details: async () => {
      const view = await circuitView(memory, store);
      return {
        memory: view.memory,
        breaker: { state: view.breaker.state, next_probe_at: view.breaker.next_probe_at },
        outbox: { pending: view.outbox.pending, dead: view.outbox.dead },
        connections: connections(),
        ...(instanceId === undefined ? {} : { instance_id: instanceId }),
      };
    },
  };
}

/** The realtime layer's view of the memory service. */
export function memoryPortOf(memory: MemoryService): MemoryPort {
  return {
    submit: (message) => memory.submit(message),
    async search(query) {
      const found = await memory.search(query.userId, query.threadId, query.query, query.limit);
      return {
        degraded: found.degraded,
        results: found.results.map((hit) => ({
          content: hit.content,
          role: hit.role,
          score: hit.score,
          uuid: hit.uuid,
        })),
      };
    },
    context: (userId, threadId) => memory.context(userId, threadId),
    status: () => memory.status(),
    onStatusChange: (listener) => memory.onStatusChange((status) => listener(status)),
  };
}

/** Keeps the recent breaker transitions for the status page's timeline. */
export function recordTransitions(memory: MemoryService, now: () => number = Date.now) {
  const kept: AdminStatusTransition[] = [];
  memory.onStatusChange((_status, transition) => {
    kept.push({
      at: new Date(now()).toISOString(),
      from: transition.from,
      to: transition.to,
      reason: transition.reason as TransitionReason,
    });
    if (kept.length > TRANSITIONS_KEPT) kept.shift();
  });
  return kept;
}

/** Inputs of {@link adminPortOf}. */
export interface AdminPortOptions {
  memory: MemoryService;
  store: Store;
  runtime: RuntimeConfig;
  phase: () => AdminStatus['status'];
  connections: () => number;
  transitions: readonly AdminStatusTransition[];
  startedAtMonoMs: number;
  /** For the memory latency percentiles the status page shows. */
  metrics: Metrics;
  /** Cluster mode: this instance's id and the live members. */
  cluster?: Pick<ClusterRuntime, 'view' | 'instanceId'>;
  /** The assistant, when one is configured. */
  assistant?: Pick<TurnRunner, 'status' | 'stats' | 'circuitState'>;
}

/** The admin API's view of the daemon. */
export function adminPortOf(inputs: AdminPortOptions): AdminPort {
  const { memory, store, runtime } = inputs;
  return {
    async status() {
      const view = await circuitView(memory, store);
      const latency = await memoryLatencyMs(inputs.metrics);
      return {
        status: inputs.phase(),
        version: buildInfo().version,
        uptime_s: Math.round((performance.now() - inputs.startedAtMonoMs) / 1000),
        memory: view.memory,
        breaker: { ...view.breaker, transitions: [...inputs.transitions] },
        outbox: view.outbox,
        connections: inputs.connections(),
        ...(latency === undefined ? {} : { latency_ms: latency }),
        ...(inputs.cluster === undefined ? {} : { cluster: await clusterViewOf(inputs.cluster) }),
        ...(inputs.assistant === undefined ? {} : { assistant: assistantViewOf(inputs) }),
      };
    },
    async breaker(action) {
      if (action === 'open') memory.openCircuit();
      else if (action === 'close') memory.closeCircuit();
      else memory.resetCircuit();
      await memory.persisted();
    },
    configView: () => showConfig(runtime.config, runtime.loaded.meta),
    patchConfig: async (changes, actor) => {
      const result = await runtime.patch(changes, actor);
      return result.ok
        ? { ok: true, changed: result.changed }
        : { ok: false, issues: result.issues };
    },
  };
}

/** The member list, or just this instance's id when the database does not answer. */
function assistantViewOf(inputs: AdminPortOptions): NonNullable<AdminStatus['assistant']> {
  const assistant = inputs.assistant!;
  const backend = inputs.runtime.config.assistant.backend === 'http' ? 'http' : 'demo';
  return {
    backend,
    status: assistant.status(),
    circuit: assistant.circuitState(),
    ...assistant.stats(),
  };
}

async function clusterViewOf(
  cluster: Pick<ClusterRuntime, 'view' | 'instanceId'>,
): Promise<ClusterView> {
  try {
    return await cluster.view();
  } catch {
    return { instance_id: cluster.instanceId, members: [] };
  }
}
