/**
 * @module Every metric lifeline exports, defined once under the `lifeline_` prefix, on a registry
 * the caller owns (Centrifugo's single registry; tests get a fresh one each).
 */

// By path, not from the package's index: the index also loads the Pushgateway client, and with it
// node:http, node:https and node:zlib, ≈ 8 ms of every start for a feature lifeline never uses
// (docs/benchmarks.md, Startup). Types: prom-client-lib.d.ts.
import Counter from 'prom-client/lib/counter';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics';
import Gauge from 'prom-client/lib/gauge';
import Histogram from 'prom-client/lib/histogram';
import Registry from 'prom-client/lib/registry';

/**
 * prom-client's default collectors name these gauges `*_total`, a suffix Prometheus reserves for
 * counters, so `promtool check metrics` rejects the whole output; they are dropped. The per-type
 * gauges without the suffix (`nodejs_active_handles` …) still give the same counts by type.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** The gauge class, for the one family built outside {@link createMetrics} (daemon/build.ts). */
export { Gauge };

/** The metric families; layers receive this object and never create metrics of their own. */
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Creates the registry and every metric family. With `processMetrics` the default process_*
 * families (CPU, memory, fds, event loop lag) are collected too, from the first call of
 * `startProcessMetrics` on: their first registration costs ≈ 4 ms of native set-up (heap space
 * statistics, the event-loop delay monitor, /proc reads), so the daemon starts them once its port
 * is bound, and `/metrics` starts them before its first answer (docs/benchmarks.md, Startup).
 */
export function createMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  let processStarted = options.processMetrics !== true;
  /** Registers the default collectors once; later calls (and without `processMetrics`) do nothing. */
  const startProcessMetrics = () => {
    if (processStarted) return;
    processStarted = true;
    collectDefaultMetrics({ register: registry, prefix: '' });
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  };
  const registers = [registry];
  return {
    registry,
    startProcessMetrics,
    connections: new Gauge({
      name: 'lifeline_ws_connections',
      help: 'WebSocket connections currently open.',
      registers,
    }),
    connectionsTotal: new Counter({
      name: 'lifeline_ws_connections_total',
      help: 'WebSocket connections accepted since start.',
      registers,
    }),
    closes: new Counter({
      name: 'lifeline_ws_closes_total',
      help: 'WebSocket closes by close code.',
      labelNames: ['code'] as const,
      registers,
    }),
    rehydrateSeconds: new Histogram({
      name: 'lifeline_rehydrate_duration_seconds',
      help: 'Time from socket open to the rehydrate frame being sent.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    messagesIn: new Counter({
      name: 'lifeline_messages_in_total',
      help: 'Client frames received, by type.',
      labelNames: ['type'] as const,
      registers,
    }),
    messagesOut: new Counter({
      name: 'lifeline_messages_out_total',
      help: 'Frames pushed to clients, by type.',
      labelNames: ['type'] as const,
      registers,
    }),
    rejected: new Counter({
      name: 'lifeline_messages_rejected_total',
      help: 'Client frames or API calls rejected, by error code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    memoryRequestSeconds: new Histogram({
      name: 'lifeline_memory_request_duration_seconds',
      help: 'Memory service request latency by operation and outcome.',
      labelNames: ['backend', 'operation', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    }),
    breakerState: new Gauge({
      name: 'lifeline_breaker_state',
      help: 'Circuit breaker state per backend: 0 closed, 1 half-open, 2 open.',
      labelNames: ['backend'] as const,
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'lifeline_breaker_transitions_total',
      help: 'Circuit breaker transitions by backend and target state.',
      labelNames: ['backend', 'to'] as const,
      registers,
    }),
    breakerSkipped: new Counter({
      name: 'lifeline_breaker_skipped_calls_total',
      help: 'Memory calls not sent because the circuit was open.',
      labelNames: ['backend', 'operation'] as const,
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'lifeline_outbox_depth',
      help: 'Messages committed but not yet delivered to the memory service.',
      registers,
    }),
    outboxDelivered: new Counter({
      name: 'lifeline_outbox_delivered_total',
      help: 'Messages delivered to the memory service.',
      registers,
    }),
    outboxDead: new Gauge({
      name: 'lifeline_outbox_dead_letters',
      help: 'Messages the memory service rejected as invalid (dead letters).',
      registers,
    }),
    historyEvents: new Gauge({
      name: 'lifeline_history_events',
      help: 'Events kept in the replay history across all users.',
      registers,
    }),
    assistantTurns: new Counter({
      name: 'lifeline_assistant_turns_total',
      help: 'Assistant turns ended, by outcome (complete, cancelled, failed, expired, empty).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    assistantFirstDeltaSeconds: new Histogram({
      name: 'lifeline_assistant_first_delta_seconds',
      help: 'Time from the start of an assistant attempt to its first reply text.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    assistantStreams: new Gauge({
      name: 'lifeline_assistant_streams',
      help: 'Assistant replies streaming now.',
      registers,
    }),
    assistantQueuedTurns: new Gauge({
      name: 'lifeline_assistant_queued_turns',
      help: 'Assistant turns waiting: behind an earlier turn of their thread, for a retry, for the circuit or for a deferred upload.',
      registers,
    }),
    httpRequests: new Counter({
      name: 'lifeline_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
  };
}
