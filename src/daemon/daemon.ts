/**
 * @module The composition root and lifecycle: preflight → migrate → build → bind → ready, and the
 * drain sequence on stop (docs/design.md#preflight, #operations). Every part is built from config
 * here and nowhere else.
 */
import { hostname } from 'node:os';
import type { Server } from 'bun';
import type { LoadResult } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { systemClock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { createMetrics, type Metrics } from '../metrics/registry.ts';
import { type CheckRun, runChecks } from '../preflight/run.ts';
import { clusterMode, openStorage } from '../storage/open-storage.ts';
import type { SharedConnections } from '../storage/sqlite/open.ts';
import type { Store } from '../storage/store.ts';
import { type BuiltDaemon, buildDaemon } from './build.ts';
import { preflightChecks } from './checks.ts';
import { instanceIdOf } from './cluster.ts';
import { startHistoryTrim } from './history-trim.ts';
import { RuntimeConfig } from './runtime-config.ts';
import type { Notifier } from './sd-notify.ts';

/** How long after ready the background work of a start (process collectors, first trim) waits. */
const AFTER_READY_MS = 1000;

/** How often the daemon looks for overrides written by `lifeline config set` (another process). */
const RUNTIME_POLL_MS = 1000;

/** A running daemon. */
interface Daemon {
  readonly config: Config;
  readonly port: number;
  readonly store: Store;
  readonly metrics: Metrics;
  /** Drains and stops; resolves when everything is closed. Safe to call twice. */
  stop(reason: string): Promise<void>;
}

/** What {@link startDaemon} needs. */
interface StartOptions {
  loaded: LoadResult;
  logger: Logger;
  notifier: Notifier;
  strict?: boolean;
  /** Reloads the config with runtime overrides from the database (daemon/config.ts). */
  reload: (overrides: Array<{ key: string; value: unknown }>) => LoadResult;
  /** The connections config loading opened: preflight checks and the store reuse them. */
  share?: SharedConnections;
}

/** The outcome of starting: running, or refused by preflight (the port was never bound). */
type StartOutcome =
  | { kind: 'running'; daemon: Daemon; preflight: CheckRun }
  | { kind: 'preflight_failed'; preflight: CheckRun };

/** Runs preflight, migrates, builds every part, binds the port and reports ready. */
export async function startDaemon(input: StartOptions): Promise<StartOutcome> {
  const { loaded, logger } = input;
  const preflight = await runChecks(
    preflightChecks(loaded.config, loaded.issues, { checkPort: true, share: input.share }),
    {
      strict: input.strict ?? false,
    },
  );
  if (!preflight.ok || !loaded.config) return { kind: 'preflight_failed', preflight };
  for (const result of preflight.results) {
    if (result.status === 'warn')
      logger.warn(`preflight: ${result.name}: ${result.detail}`, { fix: result.fix });
  }
  const { instanceId, log, storage } = await openFor(loaded.config, logger, input.share);
  const store = storage.store;
  const runtime = new RuntimeConfig(loaded, store, input.reload, log);
  await runtime.refresh();
  runtime.startPolling(RUNTIME_POLL_MS);
  const config = runtime.config;
  const metrics = createMetrics({ processMetrics: true });
  const built = await buildDaemon({
    runtime,
    storage,
    instanceId,
    metrics,
    logger: log,
    clock: systemClock,
  });
  const server = listen(built, config);
  await built.cluster?.start(addressOf(config, server.port ?? config.server.port));
  built.phase.value = 'ready';
  input.notifier.notify(`READY=1\nSTATUS=listening on ${config.server.host}:${server.port}`);
  log.info('listening', { host: config.server.host, port: server.port });
  // Not before the first answers: the collectors' set-up (≈ 4 ms) would delay the health checks
  // already queued; a scrape before then starts them itself (docs/benchmarks.md, Startup).
  setTimeout(metrics.startProcessMetrics, AFTER_READY_MS).unref();
  const watchdog = startWatchdog(input.notifier);
  const stopTrim = startHistoryTrim({
    store,
    config: () => runtime.config,
    clock: systemClock,
    logger: log,
    firstAfterMs: AFTER_READY_MS,
  });
  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    config,
    port: server.port ?? config.server.port,
    store,
    metrics,
    stop: (reason) => {
      // Nothing may touch the store once the drain closes it.
      stopTrim();
      runtime.stop();
      stopping ??= drain({
        built,
        server,
        close: () => storage.close(),
        notifier: input.notifier,
        logger: log,
        reason,
        watchdog,
        config,
      });
      return stopping;
    },
  };
  return { kind: 'running', daemon, preflight };
}

/** The instance id, the logger (carrying the id in cluster mode) and the opened, migrated storage. */
async function openFor(config: Config, logger: Logger, share: SharedConnections | undefined) {
  const instanceId = instanceIdOf(config);
  const log = clusterMode(config) ? logger.child({ instance_id: instanceId }) : logger;
  const storage = await openStorage({ config, logger: log, clock: systemClock, instanceId, share });
  try {
    const migrated = await storage.migrate();
    if (migrated.applied.length > 0) log.info('migrations applied', { applied: migrated.applied });
  } catch (error) {
    await storage.close();
    throw error;
  }
  return { instanceId, log, storage };
}

function listen(built: BuiltDaemon, config: Config): Server<unknown> {
  // reusePort:false: a second instance on the same port must fail, not share traffic
  // (docs/design.md#listener).
  built.app.listen({
    hostname: config.server.host,
    port: config.server.port,
    reusePort: false,
    // A backstop behind the request gate's own 413 (which carries the error envelope): Bun
    // refuses larger declared bodies itself and closes (docs/decisions.md, "Request gate").
    maxRequestBodySize: listenerBodyLimit(config),
    websocket: built.websocket,
  });
  const server = built.app.server;
  if (!server) throw new Error(`could not bind ${config.server.host}:${config.server.port}`);
  return server as Server<unknown>;
}

/** Bun's own body limit: four JSON bodies' worth, at least 1 MiB. */
function listenerBodyLimit(config: Config): number {
  return Math.max(4 * config.server.max_payload_bytes, 1024 * 1024);
}

/** The `host:port` other members and operators see (the hostname when bound to every address). */
function addressOf(config: Config, port: number): string {
  const host = config.server.host;
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? hostname() : host;
  return shown.includes(':') ? `[${shown}]:${port}` : `${shown}:${port}`;
}

function startWatchdog(notifier: Notifier): Timer | undefined {
  if (notifier.watchdogUsec === undefined) return undefined;
  const everyMs = Math.max(1000, Math.floor(notifier.watchdogUsec / 2000));
  const timer = setInterval(() => notifier.notify('WATCHDOG=1'), everyMs);
  timer.unref();
  return timer;
}

async function drain(input: {
  built: BuiltDaemon;
  server: Server<unknown>;
  /** Closes the store (and the cluster side pool). */
  close(): Promise<void>;
  notifier: Notifier;
  logger: Logger;
  reason: string;
  watchdog: Timer | undefined;
  config: Config;
}): Promise<void> {
  const { built, server, logger } = input;
  built.phase.value = 'draining';
  input.notifier.notify('STOPPING=1');
  logger.info('draining', { reason: input.reason });
  if (input.watchdog) clearInterval(input.watchdog);
  const deadlineMs = performance.now() + input.config.shutdown.drain_timeout_s * 1000;
  await built.beforeClose(deadlineMs);
  await server.stop(true);
  await built.afterClose(deadlineMs);
  await built.cluster?.stop();
  await input.close();
  logger.info('stopped', { reason: input.reason });
}
