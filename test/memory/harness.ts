/**
 * A MemoryService over a fresh SQLite store and a fake Zep, driven by a FakeClock: the flusher is
 * not started, tests call `flushOnce()` and `clock.advance()` instead of sleeping. HTTP timeouts
 * stay real (AbortSignal), so tests that need them use small `timeoutMs` values.
 */
import { createLogger } from '../../src/lib/log.ts';
import type { OutboxSettings } from '../../src/memory/outbox-flusher.ts';
import { type BreakerOptionsMs, MemoryService } from '../../src/memory/service.ts';
import { createZepBackend, type ZepBackend } from '../../src/memory/zep/backend.ts';
import { createMetrics, type Metrics } from '../../src/metrics/registry.ts';
import type { NewMessage } from '../../src/storage/store.ts';
import { FakeClock } from '../support/clock.ts';
import { type FreshStore, freshStore } from '../support/db.ts';
import { type FakeZep, startFakeZep, type ZepMode } from '../support/fake-zep.ts';

/** The default settings with jitter off, so bounds are exact. */
export const DEFAULT_BREAKER: BreakerOptionsMs = {
  failureThreshold: 5,
  cooldownMs: 30_000,
  cooldownMaxMs: 300_000,
  backoff: 2,
  halfOpenMaxCalls: 1,
  jitterRatio: 0,
};

export const DEFAULT_OUTBOX: OutboxSettings = {
  batchSize: 50,
  flushIntervalMs: 200,
  maxInFlight: 4,
};

/** One parsed JSON log line. */
export type LogLine = { level: string; msg: string } & Record<string, unknown>;

export interface Harness extends AsyncDisposable {
  clock: FakeClock;
  db: FreshStore;
  zep: FakeZep;
  backend: ZepBackend;
  service: MemoryService;
  metrics: Metrics;
  logs: LogLine[];
  /** Calls made through the backend's fetch (attempts, including refused connections). */
  fetchCalls: () => number;
  submit(threadId: string, content: string, userId?: string): Promise<NewMessage>;
}

export interface HarnessOptions {
  mode?: ZepMode;
  apiVersion?: 'v1' | 'v2' | 'v3';
  breaker?: Partial<BreakerOptionsMs>;
  outbox?: Partial<OutboxSettings>;
  timeoutMs?: number;
  /** Wraps the backend's fetch (e.g. to answer some requests locally). */
  fetch?: (inner: typeof fetch) => typeof fetch;
  /** Reuse a store (restart tests). */
  db?: FreshStore;
  zep?: FakeZep;
  clock?: FakeClock;
}

/** A new message for `threadId`; content is stored byte for byte. */
export function newMessage(threadId: string, content: string, userId = 'u1'): NewMessage {
  return {
    userId,
    threadId,
    id: crypto.randomUUID(),
    role: 'user',
    content,
  };
}

/** Builds the harness; dispose it with `await using`. */
export async function memoryHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new FakeClock();
  const db = options.db ?? freshStore({ clock });
  const mode = options.mode ?? 'v1';
  const zep = options.zep ?? (await startFakeZep({ mode, apiKey: 'k', validate: true }));
  let calls = 0;
  const counting: typeof fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      calls++;
      return fetch(input, init);
    },
    { preconnect: fetch.preconnect },
  );
  const backend = createZepBackend({
    baseUrl: zep.url,
    apiVersion: options.apiVersion ?? (mode.startsWith('v1') ? 'v1' : mode === 'v3' ? 'v3' : 'v2'),
    apiKey: 'k',
    timeoutMs: options.timeoutMs ?? 2000,
    fetch: options.fetch ? options.fetch(counting) : counting,
    wallMs: () => clock.wallMs(),
  });
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    sink: (line) => logs.push(JSON.parse(line)),
  });
  const metrics = createMetrics();
  const service = await MemoryService.create({
    store: db.store,
    backend,
    breaker: { ...DEFAULT_BREAKER, ...options.breaker },
    outbox: { ...DEFAULT_OUTBOX, ...options.outbox },
    clock,
    logger,
    metrics,
    random: () => 0.5,
  });
  return {
    clock,
    db,
    zep,
    backend,
    service,
    metrics,
    logs,
    fetchCalls: () => calls,
    async submit(threadId, content, userId = 'u1') {
      const message = newMessage(threadId, content, userId);
      const result = await service.submit(message);
      if (result.kind !== 'ok') throw new Error(`submit refused: ${JSON.stringify(result)}`);
      return message;
    },
    async [Symbol.asyncDispose]() {
      await service.stop();
      if (!options.zep) await zep.stop();
      if (!options.db) await db[Symbol.asyncDispose]();
    },
  };
}

/** Runs flush rounds, advancing the fake clock `stepMs` before each, for `totalMs` of fake time. */
export async function runFor(h: Harness, totalMs: number, stepMs = 1000): Promise<void> {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    h.clock.advance(stepMs);
    await h.service.flusher.flushOnce();
  }
}

/** Log lines whose message matches. */
export function linesMatching(h: Harness, pattern: RegExp): LogLine[] {
  return h.logs.filter((l) => pattern.test(l.msg));
}
