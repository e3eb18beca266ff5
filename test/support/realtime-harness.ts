/**
 * A real lifeline HTTP + WebSocket server for realtime and API tests: fresh SQLite, HS256 tokens,
 * a memory port over the store (or one whose searches hang), in-process fan-out, port 0 on
 * 127.0.0.1. `await using h = await startRealtime()`.
 */
import type { AnyElysia } from 'elysia';
import { demoSource } from '../../src/assistant/demo.ts';
import { TurnRunner, type TurnRunnerOptions } from '../../src/assistant/runner.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createApp } from '../../src/http/app.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { type Logger, silentLogger } from '../../src/lib/log.ts';
import { hasLoneSurrogate, hasNul, isBlank, utf8Bytes } from '../../src/lib/text.ts';
import { createMetrics, type Metrics } from '../../src/metrics/registry.ts';
import { createVerifier, mintToken, type VerifierOptions } from '../../src/realtime/auth.ts';
import { InProcessFanout } from '../../src/realtime/fanout.ts';
import type { Hub } from '../../src/realtime/hub.ts';
import type {
  MemoryPort,
  MemorySearchHit,
  MemorySearchQuery,
  MemorySubmission,
  MemorySubmitResult,
} from '../../src/realtime/memory-port.ts';
import { createHub, createRealtime, type Realtime } from '../../src/realtime/plugin.ts';
import type { MemoryStatus } from '../../src/realtime/protocol.ts';
import type { Store } from '../../src/storage/store.ts';
import { type FreshStore, freshStore } from './db.ts';
import { tempDir } from './temp.ts';

/** The HS256 secret every harness verifies with. */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

/** A memory port over the store: the guards, `appendMessage`, and FTS search. */
export class StoreMemory implements MemoryPort {
  readonly searches: MemorySearchQuery[] = [];
  private current: MemoryStatus = 'ok';
  private readonly listeners = new Set<(status: MemoryStatus) => void>();

  constructor(
    private readonly store: Store,
    private readonly searchMode: 'store' | 'hanging' = 'store',
  ) {}

  async submit(m: MemorySubmission): Promise<MemorySubmitResult> {
    if (isBlank(m.content)) return { kind: 'rejected', code: 'empty_message', message: 'empty' };
    if (hasLoneSurrogate(m.content) || hasNul(m.content)) {
      return { kind: 'rejected', code: 'bad_request', message: 'bad text' };
    }
    if (utf8Bytes(m.content) > 32_768) {
      return { kind: 'rejected', code: 'too_large', message: 'too large' };
    }
    return this.store.appendMessage(m);
  }

  search(q: MemorySearchQuery): Promise<{ results: MemorySearchHit[]; degraded: boolean }> {
    this.searches.push(q);
    if (this.searchMode === 'hanging') return new Promise(() => {});
    if (this.current !== 'ok') return Promise.resolve({ results: [], degraded: true });
    return this.store.searchLocal(q.threadId, q.query, q.limit).then((hits) => ({
      results: hits.map((hit) => ({
        content: hit.message.content,
        role: hit.message.role,
        score: hit.score,
        uuid: hit.message.id,
      })),
      degraded: false,
    }));
  }

  status(): MemoryStatus {
    return this.current;
  }

  onStatusChange(listener: (status: MemoryStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes the status and tells the listeners, as a breaker transition would. */
  setStatus(status: MemoryStatus): void {
    this.current = status;
    for (const listener of this.listeners) listener(status);
  }
}

/** Options for {@link startRealtime}. */
export interface HarnessOptions {
  /** Edits the default config before anything is built. */
  configure?: (config: Config) => void;
  searchMode?: 'store' | 'hanging';
  clock?: Clock;
  /** Key material and claim rules instead of the HS256 {@link TEST_SECRET}. */
  verifier?: Partial<VerifierOptions>;
  authorize?: (claims: Readonly<Record<string, unknown>>) => boolean;
  logger?: Logger;
  /** Extra plugins (API, admin) built from the harness parts. */
  plugins?: (parts: HarnessParts) => unknown[];
  /**
   * Runs the demo assistant (`assistant.backend = "demo"` unless `configure` set another) with
   * these runner settings.
   */
  assistant?: Partial<
    Pick<TurnRunnerOptions, 'persistEveryMs' | 'source' | 'circuit' | 'random'>
  > & {
    /** The demo's pause between words (when no `source` is given). */
    wordDelayMs?: number;
  };
}

/** What plugins are built from. */
export interface HarnessParts {
  config: Config;
  store: Store;
  memory: StoreMemory;
  realtime: Realtime;
  metrics: Metrics;
  clock: Clock;
  /** The demo assistant's runner, when {@link HarnessOptions.assistant} was given. */
  assistant?: TurnRunner;
}

/** A running server. */
export interface Harness extends HarnessParts, AsyncDisposable {
  db: FreshStore;
  port: number;
  /** `ws://127.0.0.1:PORT/ws` */
  wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  httpUrl: string;
  /** A valid token for `userId` (1 h unless `ttlS`). */
  token(userId: string, ttlS?: number): Promise<string>;
  /** `wsUrl` with `?token=` for `userId` and extra query parameters. */
  urlFor(userId: string, query?: Record<string, string>): Promise<string>;
}

/** The default config with an empty environment. */
export function defaultConfig(): Config {
  using dir = tempDir('lifeline-config');
  const loaded = loadConfig({ env: {}, isTTY: false, cwd: dir.path });
  if (loaded.config === undefined) throw new Error('default config is invalid');
  return loaded.config;
}

/** The demo runner over the harness's parts, when asked for. */
function assistantFor(
  options: HarnessOptions,
  parts: {
    config: Config;
    store: Store;
    memory: StoreMemory;
    hub: Hub;
    fanout: InProcessFanout;
    clock: Clock;
    baseUrl: () => string;
  },
): TurnRunner | undefined {
  if (options.assistant === undefined) return undefined;
  if (parts.config.assistant.backend === 'none') parts.config.assistant.backend = 'demo';
  return new TurnRunner({
    store: parts.store,
    memory: parts.memory,
    fanOut: (userId, frame) => parts.fanout.publish(userId, frame),
    deliver: (userId, frame) => {
      parts.hub.deliver(userId, frame);
    },
    config: () => parts.config,
    clock: parts.clock,
    logger: options.logger ?? silentLogger,
    source: options.assistant.source ?? demoSource(options.assistant.wordDelayMs),
    baseUrl: parts.baseUrl,
    ...(options.assistant.persistEveryMs === undefined
      ? {}
      : { persistEveryMs: options.assistant.persistEveryMs }),
    ...(options.assistant.circuit === undefined ? {} : { circuit: options.assistant.circuit }),
    ...(options.assistant.random === undefined ? {} : { random: options.assistant.random }),
  });
}

/** Starts a server on a free port. */
export async function startRealtime(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? systemClock;
  const config = defaultConfig();
  options.configure?.(config);
  const db = freshStore({ clock });
  const store = db.store;
  const metrics = createMetrics();
  const memory = new StoreMemory(store, options.searchMode);
  const verifier = await createVerifier({
    ...(options.verifier === undefined ? { hsSecret: TEST_SECRET } : {}),
    ...options.verifier,
    leewayS: options.verifier?.leewayS ?? config.auth.leeway_s,
    clock,
  });
  const hub = createHub(config, options.logger ?? silentLogger);
  const fanout = new InProcessFanout();
  let baseUrl = 'http://127.0.0.1:0';
  const assistant = assistantFor(options, {
    config,
    store,
    memory,
    hub,
    fanout,
    clock,
    baseUrl: () => baseUrl,
  });
  const realtime = createRealtime({
    config,
    store,
    memory,
    verifier,
    hub,
    fanout,
    ...(assistant === undefined ? {} : { assistant }),
    metrics,
    logger: options.logger ?? silentLogger,
    clock,
    ...(options.authorize === undefined ? {} : { authorize: options.authorize }),
  });
  const parts: HarnessParts = {
    config,
    store,
    memory,
    realtime,
    metrics,
    clock,
    ...(assistant === undefined ? {} : { assistant }),
  };
  const app = createApp({
    readiness: {
      phase: () => 'ready',
      unavailableReason: () => undefined,
      details: async () => ({}),
    },
    metrics,
    logger: options.logger ?? silentLogger,
    refreshMetrics: async () => {},
  }).use(realtime.plugin);
  // Test plugins come typed loosely (whatever each test mounts); the app's own chain is typed.
  for (const plugin of options.plugins?.(parts) ?? []) app.use(plugin as AnyElysia);
  app.listen({
    port: 0,
    hostname: '127.0.0.1',
    reusePort: false,
    websocket: realtime.websocketOptions,
  });
  const port = app.server?.port ?? 0;
  baseUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const token = (userId: string, ttlS = 3600) =>
    mintToken({ secret: TEST_SECRET, userId, ttlS, clock });
  return {
    ...parts,
    db,
    port,
    wsUrl,
    httpUrl: `http://127.0.0.1:${port}`,
    token,
    urlFor: async (userId, query = {}) => {
      const params = new URLSearchParams({ token: await token(userId), ...query });
      return `${wsUrl}?${params}`;
    },
    async [Symbol.asyncDispose]() {
      await assistant?.stop();
      realtime.stop();
      await app.stop(true);
      await db[Symbol.asyncDispose]();
    },
  };
}
