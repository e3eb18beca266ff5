/**
 * The outbox flusher (src/memory/outbox-flusher.ts) against the fake Zep: order per thread within
 * max_in_flight, dead letters, slow start after failures (at most failure_threshold requests reach
 * a dead backend however large the backlog), and the drain after recovery.
 */
import { describe, expect, test } from 'bun:test';
import { CircuitBreaker } from '../../src/breaker/breaker.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { CallGate } from '../../src/memory/call-gate.ts';
import {
  answer,
  failure,
  type MemoryBackend,
  type MemoryOutcome,
} from '../../src/memory/client.ts';
import { OutboxFlusher } from '../../src/memory/outbox-flusher.ts';
import { DEFAULTS } from '../breaker/helpers.ts';
import { FakeClock } from '../support/clock.ts';
import { freshStore } from '../support/db.ts';
import { DEFAULT_OUTBOX, linesMatching, memoryHarness, newMessage, runFor } from './harness.ts';

describe('outbox delivery', () => {
  test('delivers in order per thread, one batch per thread, within max_in_flight', async () => {
    await using h = await memoryHarness({ outbox: { batchSize: 10, maxInFlight: 4 } });
    await h.zep.setFault({ kind: 'delay', ms: 20 });
    const sent = [];
    for (let i = 0; i < 120; i++) sent.push(await h.submit(`t${i % 6}`, `m${i}`));
    for (let i = 0; i < 40 && (await h.db.store.outboxStats()).pending > 0; i++)
      await h.service.flusher.flushOnce();
    expect(await h.db.store.outboxStats()).toEqual({ pending: 0, dead: 0, delivered: 120 });
    expect(h.zep.peakInFlight).toBeLessThanOrEqual(4);
    for (let t = 0; t < 6; t++) {
      const expected = sent.filter((m) => m.threadId === `t${t}`).map((m) => m.id);
      expect(
        h.zep
          .uniqueDelivered()
          .filter((d) => d.sessionId === `t${t}`)
          .map((d) => d.uuid),
      ).toEqual(expected);
    }
    expect(h.zep.duplicates()).toBe(0);
    expect(h.zep.requests().flatMap((r) => r.problems ?? [])).toEqual([]);
  });

  test('a message the service rejects is dead-lettered with the reason; its batch-mates are delivered', async () => {
    const poison: (inner: typeof fetch) => typeof fetch = (inner) =>
      Object.assign(
        async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
          if (typeof init?.body === 'string' && init.body.includes('POISON')) {
            return new Response('bad request: poisoned content\n', { status: 400 });
          }
          return inner(input, init);
        },
        { preconnect: fetch.preconnect },
      );
    await using h = await memoryHarness({ fetch: poison });
    const a = await h.submit('t1', 'first');
    const bad = await h.submit('t1', 'POISON pill');
    const c = await h.submit('t1', 'third');
    await h.service.flusher.flushOnce();
    expect(await h.db.store.outboxStats()).toEqual({ pending: 0, dead: 1, delivered: 2 });
    const [dead] = await h.db.store.deadLetters(5);
    expect(dead).toMatchObject({
      id: bad.id,
      state: 'dead',
      lastError: 'bad request: poisoned content',
    });
    expect(h.zep.uniqueDelivered().map((d) => d.uuid)).toEqual([a.id, c.id]);
    expect(h.service.status()).toBe('ok');
    await h.service.flusher.flushOnce();
    // The batch and the poisoned retry were answered by the wrapper; a and c went alone.
    expect(h.zep.requests().filter((r) => r.path.endsWith('/memory')).length).toBe(2);
  });
});

describe('outbox delivery under the breaker', () => {
  test('503 with a backlog: at most 5 requests, then OPEN, one log line, WRITE_ONLY reads', async () => {
    await using h = await memoryHarness();
    await h.zep.setFault({ kind: 'status', status: 503 });
    for (let i = 0; i < 200; i++) await h.submit(`t${i % 20}`, `m${i}`);
    await runFor(h, 5_000, 200);
    expect(h.service.status()).toBe('write_only');
    expect(h.zep.requests().length).toBeLessThanOrEqual(5);
    expect(linesMatching(h, /^circuit OPEN after 5 failures$/).length).toBe(1);
    h.zep.clearRequests();
    expect(await h.service.search('u1', 't1', 'm1', 5)).toEqual({ results: [], degraded: true });
    expect(await h.service.recent('t1', 5)).toEqual({ messages: [], degraded: true });
    await runFor(h, 20_000);
    expect(h.zep.requests()).toEqual([]);
    expect(await h.db.store.outboxStats()).toEqual({ pending: 200, dead: 0, delivered: 0 });
  });

  test('recovery: the next batch is the probe, then the backlog drains with bounded concurrency', async () => {
    await using h = await memoryHarness({ outbox: { batchSize: 5 } });
    await h.zep.setFault({ kind: 'status', status: 502 });
    for (let i = 0; i < 100; i++) await h.submit(`t${i % 10}`, `m${i}`);
    await runFor(h, 3_000, 200);
    expect(h.service.status()).toBe('write_only');
    const changes: string[] = [];
    h.service.onStatusChange((status) => changes.push(status));
    await h.zep.setFault({ kind: 'delay', ms: 10 });
    h.zep.clearRequests();
    h.clock.advance(30_000);
    const probe = await h.service.flusher.flushOnce();
    expect(probe.batches).toBe(1);
    expect(h.service.status()).toBe('ok');
    for (let i = 0; i < 60 && (await h.db.store.outboxStats()).pending > 0; i++)
      await h.service.flusher.flushOnce();
    expect(await h.db.store.outboxStats()).toMatchObject({ pending: 0, delivered: 100 });
    expect(h.zep.peakInFlight).toBeLessThanOrEqual(4);
    expect(changes).toEqual(['ok']);
    expect(linesMatching(h, /^closed$/).length).toBe(1);
  });
});

/** A backend whose addMessages answers from `script` (answer once it runs out), counting calls. */
function scriptedBackend(script: Array<MemoryOutcome<void>>): MemoryBackend & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'zep',
    maxBatchMessages: 10,
    calls,
    addMessages: async (threadId) => {
      calls.push(threadId);
      return script.shift() ?? answer(undefined);
    },
    recentMessages: async () => answer([]),
    search: async () => answer([]),
    deleteThread: async () => answer(undefined),
    health: async () => answer(undefined),
    setTimeoutMs: () => {},
  };
}

function flusherOver(backend: MemoryBackend) {
  const clock = new FakeClock();
  const db = freshStore({ clock });
  const breaker = new CircuitBreaker({ ...DEFAULTS, clock, random: () => 0.5 });
  const gate = new CallGate({ breaker, backendName: 'zep', clock, logger: silentLogger });
  const flusher = new OutboxFlusher({
    ...DEFAULT_OUTBOX,
    maxInFlight: 4,
    store: db.store,
    backend,
    gate,
    clock,
    logger: silentLogger,
  });
  return { db, flusher, gate };
}

describe('OutboxFlusher on its own', () => {
  test('slow start: one batch per round until the backend answered, then max_in_flight', async () => {
    const backend = scriptedBackend([]);
    const { db, flusher } = flusherOver(backend);
    for (let t = 0; t < 8; t++) await db.store.appendMessage(newMessage(`t${t}`, `m${t}`));
    expect((await flusher.flushOnce()).batches).toBe(1);
    expect((await flusher.flushOnce()).batches).toBe(4);
    expect(backend.calls).toHaveLength(5);
    await db[Symbol.asyncDispose]();
  });

  test('after a failure the next round sends one batch; a success widens it again', async () => {
    const down = failure('http_5xx', 'HTTP 503');
    // Four failures in a row stay below the threshold of five: the circuit stays closed.
    const backend = scriptedBackend([answer(undefined), down, down, down, down]);
    const { db, flusher, gate } = flusherOver(backend);
    for (let t = 0; t < 12; t++) await db.store.appendMessage(newMessage(`t${t}`, `m${t}`));
    await flusher.flushOnce();
    const failed = await flusher.flushOnce();
    expect(failed).toMatchObject({ batches: 4, failed: 4, delivered: 0 });
    expect(gate.closed).toBe(true);
    expect(gate.steady()).toBe(false);
    expect((await flusher.flushOnce()).batches).toBe(1);
    expect(gate.steady()).toBe(true);
    expect((await flusher.flushOnce()).batches).toBe(4);
    await db[Symbol.asyncDispose]();
  });
});
