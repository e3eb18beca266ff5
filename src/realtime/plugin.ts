/**
 * @module The realtime factory: the Elysia `.ws('/ws')` plugin over Bun's native WebSocket, the
 * hub, and the operations the HTTP API and the daemon call (publish, commit a message, drain,
 * live limits); it pushes memory status changes itself. docs/design.md#websocket, #operations, #edge-cases.
 *
 * Bun takes its WebSocket settings once, from `listen()`; a plugin cannot set them. The daemon
 * passes {@link Realtime.websocketOptions} to `listen({ ..., reusePort: false, websocket })`.
 */
import { Elysia } from 'elysia';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Store } from '../storage/store.ts';
import type { AssistantPort } from './assistant-port.ts';
import type { Verifier } from './auth.ts';
import {
  type ConnectionOptions,
  checkUpgrade,
  closeConnection,
  closeSession,
  openConnection,
  type RawSocket,
  receiveFrame,
  sweepExpiry,
  type UpgradeContext,
} from './connection.ts';
import type { Fanout } from './fanout.ts';
import { reply } from './handlers.ts';
import { Hub } from './hub.ts';
import { UpgradeLimiter } from './limits.ts';
import type { MemoryPort, MemorySubmission, MemorySubmitResult } from './memory-port.ts';
import { commitMessage } from './message-pipeline.ts';
import { createOriginPolicy, type OriginPolicy } from './origin.ts';
import { CLOSE, type MemoryStatus, type PushFrame } from './protocol.ts';
import { toPushFrame } from './push.ts';
import { epochReader, readState, type StateView } from './rehydrate.ts';
import type { AssistantStatus } from './reply-protocol.ts';
import type { Session } from './session.ts';
import { frameBudget } from './snapshot-budget.ts';

/** Inputs of {@link createRealtime}. */
interface RealtimeOptions {
  config: Config;
  store: Store;
  memory: MemoryPort;
  verifier: Verifier;
  /** The sockets by user, built once by the caller ({@link createHub}) and shared with the fan-out. */
  hub: Hub;
  fanout: Fanout;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** Refuses a valid token's user with 4003 (docs/faults.md#a16); default: everyone is allowed. */
  authorize?: (claims: Readonly<Record<string, unknown>>) => boolean;
  /** Uniform draws in [0, 1) for the `reconnect.after_ms` jitter. */
  random?: () => number;
  /** How often token expiry is checked, in ms (default 1000). */
  expirySweepMs?: number;
  /** The assistant (src/assistant), when `assistant.backend` is not `none`. */
  assistant?: AssistantPort;
}

/** Bun's WebSocket settings for `listen({ websocket })`. */
export interface WebSocketOptions {
  maxPayloadLength: number;
  idleTimeout: number;
  sendPings: boolean;
  backpressureLimit: number;
  closeOnBackpressureLimit: boolean;
  perMessageDeflate: boolean;
}

/** The running realtime layer. */
export interface Realtime {
  /** Mount with `app.use(plugin)`. */
  plugin: RealtimePlugin;
  hub: Hub;
  /** Pass to `listen({ websocket })`: payload limit (1009), idle timeout with pings, backpressure. */
  websocketOptions: WebSocketOptions;
  /** Records an event in the user's history and pushes it; resolves to its seq. */
  publish(userId: string, type: string, payload: unknown): Promise<number>;
  /** Pushes an event that is already committed (e.g. by the HTTP API) to the user's sockets. */
  fanOut(userId: string, frame: PushFrame, origin?: string): Promise<void>;
  /** Commits a message and pushes it: the message pipeline (message-pipeline.ts). */
  commitMessage(message: MemorySubmission): Promise<MemorySubmitResult>;
  /** Refuses new upgrades (503), sends `reconnect {after_ms}` jittered over the window, closes 1012. */
  drain(options: { windowMs: number }): Promise<void>;
  connectionCount(): number;
  /** Applies runtime-tunable limits to new connections and the hub. */
  updateLimits(config: Config): void;
  /** The snapshot content of a user (HTTP `GET /users/:user/state`). */
  readState(userId: string, threadIds: readonly string[]): Promise<StateView>;
  /** Runs the token-expiry check now (a timer also runs it every `expirySweepMs`). */
  sweep(): void;
  /** Stops timers and the fan-out subscription (after drain). */
  stop(): void;
}

/** Mutable state shared by the factory's closures. */
interface LiveState {
  config: Config;
  draining: boolean;
  lastStatus: MemoryStatus;
  limiter: UpgradeLimiter;
  policies: Map<number, OriginPolicy>;
}

function buildContext(deps: RealtimeOptions, live: LiveState, hub: Hub): ConnectionOptions {
  const cx: ConnectionOptions = {
    store: deps.store,
    memory: deps.memory,
    verifier: deps.verifier,
    hub,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    sessions: new Set<Session>(),
    config: () => live.config,
    recentMessages: () => live.config.rehydration.recent_messages,
    frameBudget: () => frameBudget(live.config),
    fanOut: (userId, frame, origin) => deps.fanout.publish(userId, frame, origin),
    close: (session, code, reason) => closeSession(cx, session, code, reason),
    originPolicy: (port) => policyFor(live.policies, live.config, port),
    upgradeLimiter: () => live.limiter,
    draining: () => live.draining,
    authorize: deps.authorize ?? (() => true),
    epoch: epochReader(deps.store),
    ...(deps.assistant === undefined ? {} : { turns: deps.assistant }),
  };
  return cx;
}

/** The hub for {@link createRealtime}, sized from config (runtime changes go through `updateLimits`). */
export function createHub(config: Config, logger: Logger): Hub {
  return new Hub({
    socketsPerUser: config.limits.sockets_per_user,
    maxBufferedBytes: config.limits.send_buffer_bytes,
    logger,
  });
}

/** Builds the realtime layer; nothing listens until the app does. */
export function createRealtime(deps: RealtimeOptions): Realtime {
  const live: LiveState = {
    config: deps.config,
    draining: false,
    lastStatus: deps.memory.status(),
    limiter: newLimiter(deps.config, deps.clock),
    policies: new Map(),
  };
  const hub = deps.hub;
  const cx = buildContext(deps, live, hub);
  const unsubscribe = deps.fanout.subscribe((userId, frame, origin) =>
    deliver(cx, userId, frame, origin),
  );
  const publish = async (userId: string, type: string, payload: unknown) => {
    const seq = await deps.store.appendEvent(userId, type, payload);
    const frame = toPushFrame(type, seq, payload);
    if (frame !== undefined) await cx.fanOut(userId, frame);
    return seq;
  };
  // The one subscription to memory status: each change is pushed as `memory {status}` to every
  // connected user, once (pushStatus logs a failed push and never rejects).
  const stopStatus = deps.memory.onStatusChange((status) => {
    if (status === live.lastStatus) return;
    live.lastStatus = status;
    void pushStatus(cx, publish, 'memory', status);
  });
  // The same for the assistant's circuit: `assistant {status}` to every connected user.
  const stopAssistant = deps.assistant?.onStatusChange((status) => {
    void pushStatus(cx, publish, 'assistant', status);
  });
  const sweep = () => sweepExpiry(cx, deps.clock.wallMs());
  const timer = setInterval(sweep, deps.expirySweepMs ?? 1000);
  timer.unref?.();
  return {
    plugin: wsPlugin(cx),
    hub,
    websocketOptions: websocketOptionsOf(deps.config),
    publish,
    fanOut: cx.fanOut,
    commitMessage: (message) => commitMessage(cx, message),
    drain: async ({ windowMs }) => {
      live.draining = true;
      await drainSockets(cx, windowMs, deps.random ?? Math.random);
    },
    connectionCount: () => cx.sessions.size,
    updateLimits: (config) => applyLimits(live, hub, config, deps.clock),
    readState: (userId, threadIds) =>
      readState(
        deps.store,
        cx.epoch,
        {
          userId,
          threadIds,
          recentMessages: live.config.rehydration.recent_messages,
          maxFrameBytes: frameBudget(live.config),
        },
        deps.memory.status(),
      ),
    sweep,
    stop: () => {
      clearInterval(timer);
      unsubscribe();
      stopStatus();
      stopAssistant?.();
    },
  };
}

function applyLimits(live: LiveState, hub: Hub, config: Config, clock: Clock): void {
  live.config = config;
  live.limiter = newLimiter(config, clock);
  live.policies.clear();
  hub.setLimits({
    socketsPerUser: config.limits.sockets_per_user,
    maxBufferedBytes: config.limits.send_buffer_bytes,
  });
}

/** Bun's WebSocket settings from config (decision: Bun's own backpressure limit above the hub's). */
function websocketOptionsOf(config: Config): WebSocketOptions {
  return {
    maxPayloadLength: config.server.max_payload_bytes,
    idleTimeout: config.server.idle_timeout_s,
    sendPings: true,
    // The hub closes with 4008 at send_buffer_bytes; Bun must not drop or close before it does.
    backpressureLimit: config.limits.send_buffer_bytes * 2,
    closeOnBackpressureLimit: false,
    perMessageDeflate: false,
  };
}

function newLimiter(config: Config, clock: Clock): UpgradeLimiter {
  return new UpgradeLimiter({ perIpPerS: config.limits.upgrades_per_ip_per_s, clock });
}

function policyFor(cache: Map<number, OriginPolicy>, config: Config, port: number): OriginPolicy {
  let policy = cache.get(port);
  if (policy === undefined) {
    policy = createOriginPolicy({
      allowedOrigins: config.server.allowed_origins,
      publicOrigins: config.server.public_origins,
      host: config.server.host,
      port,
    });
    cache.set(port, policy);
  }
  return policy;
}

/** The fan-out listener: every socket of the user except the one that wrote the event. */
function deliver(cx: ConnectionOptions, userId: string, frame: PushFrame, origin?: string): void {
  for (const socket of cx.hub.socketsOf(userId)) {
    const session = socket.data as Session;
    if (origin !== undefined && session.connectionId === origin) continue;
    if (cx.hub.send(socket, frame)) cx.metrics.messagesOut.inc({ type: frame.type });
  }
}

async function pushStatus(
  cx: ConnectionOptions,
  publish: (userId: string, type: string, payload: unknown) => Promise<number>,
  type: 'memory' | 'assistant',
  status: MemoryStatus | AssistantStatus,
): Promise<void> {
  const users = new Set([...cx.sessions].map((session) => session.userId));
  await Promise.all(
    [...users].map((userId) =>
      publish(userId, type, { status }).catch((error: unknown) => {
        // The next rehydrate carries the status; a failed push must not fail the others.
        cx.logger.warn(`${type} status push not stored`, { error, user_id: userId });
      }),
    ),
  );
}

async function drainSockets(cx: ConnectionOptions, windowMs: number, random: () => number) {
  const sessions = [...cx.sessions];
  for (const session of sessions) {
    const afterMs = Math.floor(random() * Math.max(0, windowMs));
    reply(cx, session, { type: 'reconnect', after_ms: afterMs });
  }
  for (const session of sessions) closeSession(cx, session, CLOSE.restart, 'service restart');
}

/** The Elysia plugin with the `/ws` route. */
export type RealtimePlugin = ReturnType<typeof wsPlugin>;

/** The `.ws('/ws')` route. */
function wsPlugin(cx: ConnectionOptions) {
  // A refusal thrown from `upgrade` (an UpgradeRefused, carrying its status) is answered by the
  // app's error mapping (http/errors.ts) as `{error:{code,message}}` with that status.
  const plugin = new Elysia({ name: 'lifeline.realtime' }).ws('/ws', {
    upgrade: (context) => checkUpgrade(cx, context as unknown as UpgradeContext),
    open: (ws) => {
      const raw = ws.raw as unknown as RawSocket;
      const session = openConnection(cx, raw);
      if (session === undefined) return;
      // Elysia's per-socket data is a copy of the upgrade's whole context (request, headers,
      // query, store…) plus one closure per event, each holding that context: ≈ 40 objects and
      // the upgrade request kept for the socket's life. Elysia's Bun handlers only call
      // `ws.data.message` / `.close` / `.drain` / `.ping` / `.pong` if present, so the open
      // socket keeps just the two this layer uses (docs/benchmarks.md, connect path). Taking Bun's
      // raw frames also avoids Elysia's JSON-parsing of text frames, so `"{\"a\":1}"` (a JSON
      // string) is not turned into an object (docs/runtime.md#elysia-ws).
      raw.data = {
        message: (_ws: unknown, message: unknown) => receiveFrame(cx, session, message),
        close: (_ws: unknown, code: number) => closeConnection(cx, session, code),
      };
    },
    // Reached only by a socket `open` refused (4001/4003/…): its frames are ignored, its close
    // is counted.
    message: () => undefined,
    close: (_ws, code) => {
      closeConnection(cx, undefined, code);
    },
  });
  return plugin;
}
