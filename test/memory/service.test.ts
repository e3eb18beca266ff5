/**
 * MemoryService against the fake Zep with a FakeClock-driven flusher: acks never wait on the
 * backend, WRITE_ONLY reads, breaker transitions with request-count bounds, persistence, logs,
 * metrics, dead letters and guards.
 */
import { describe, expect, test } from 'bun:test';
import { linesMatching, memoryHarness, newMessage, runFor } from './harness.ts';

describe('MemoryService.submit', () => {
  test('acks after the commit while the memory service hangs, and sends nothing itself', async () => {
    await using h = await memoryHarness();
    await h.zep.setFault({ kind: 'hang' });
    const message = newMessage('t1', 'hello');
    expect(await h.service.submit(message)).toEqual({
      kind: 'ok',
      seq: 1,
      duplicate: false,
      message: expect.objectContaining({ id: message.id, content: 'hello', seq: 1 }),
    });
    expect(await h.db.store.outboxStats()).toEqual({ pending: 1, dead: 0, delivered: 0 });
    expect(h.zep.requests()).toEqual([]);
  });

  test.each([
    ['empty_message', ''],
    ['empty_message', '   '],
    ['empty_message', '\u200b\ufeff\n'],
    ['bad_request', 'nul\u0000'],
    ['bad_request', '\ud83d'],
    ['too_large', 'x'.repeat(40_000)],
  ])('case %# is %s, never stored or sent', async (code, content) => {
    await using h = await memoryHarness();
    const result = await h.service.submit(newMessage('t1', content));
    expect(result).toMatchObject({ kind: 'rejected', code });
    expect(await h.db.store.outboxStats()).toEqual({ pending: 0, dead: 0, delivered: 0 });
    await h.service.flusher.flushOnce();
    expect(h.zep.requests()).toEqual([]);
  });

  test('a resend of the same id acks the same seq once and is delivered once', async () => {
    await using h = await memoryHarness();
    const message = newMessage('t1', 'once');
    const first = await h.service.submit(message);
    expect(await h.service.submit(message)).toEqual({
      kind: 'ok',
      seq: (first as { seq: number }).seq,
      duplicate: true,
    });
    await h.service.flusher.flushOnce();
    expect(h.zep.deliveries().map((d) => d.uuid)).toEqual([message.id]);
  });

  test('rejects bad ids before touching storage', async () => {
    await using h = await memoryHarness();
    expect(await h.service.submit({ ...newMessage('t1', 'x'), threadId: 'a/b' })).toMatchObject({
      code: 'bad_request',
    });
    expect(await h.service.submit({ ...newMessage('t1', 'x'), id: 'nope' })).toMatchObject({
      code: 'bad_request',
    });
  });
});

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

describe('breaker over the outbox', () => {
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

  test('dead for 5 simulated minutes: at most threshold + one probe per (growing) cooldown', async () => {
    await using h = await memoryHarness();
    await h.zep.setFault({ kind: 'status', status: 500 });
    for (let i = 0; i < 50; i++) await h.submit(`t${i % 5}`, `m${i}`);
    await runFor(h, 300_000, 1000);
    // Opens at ~4 s, probes at +30 s, +60 s, +120 s: 5 + 3 (docs/faults.md#c5).
    expect(h.zep.requests().length).toBeLessThanOrEqual(8);
    expect(h.zep.requests().length).toBeGreaterThanOrEqual(6);
    expect(linesMatching(h, /^half-open probe$/).length).toBe(h.zep.requests().length - 5);
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

  test('10 reads at once while half-open: exactly one request reaches the service', async () => {
    await using h = await memoryHarness();
    await h.zep.setFault({ kind: 'status', status: 500 });
    for (let i = 0; i < 5; i++) await h.service.search('u1', 't1', `q${i}`, 3);
    expect(h.service.status()).toBe('write_only');
    await h.zep.setFault({ kind: 'delay', ms: 50 });
    h.zep.clearRequests();
    h.clock.advance(30_000);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => h.service.search('u1', 't1', 'q', 3)),
    );
    expect(h.zep.requests().length).toBe(1);
    expect(results.filter((r) => r.degraded).length).toBe(9);
    expect(h.service.status()).toBe('ok');
  });

  test('the persisted circuit survives a restart: no request before next_probe_at, then one probe', async () => {
    await using first = await memoryHarness();
    await first.zep.setFault({ kind: 'status', status: 503 });
    for (let i = 0; i < 5; i++) await first.service.search('u1', 't1', `q${i}`, 3);
    await first.service.persisted();
    const saved = await first.db.store.loadBreakerState('zep');
    expect(saved).toMatchObject({ state: 'open', reason: 'failures', consecutiveFailures: 5 });
    await using second = await memoryHarness({ db: first.db, zep: first.zep, clock: first.clock });
    expect(second.service.status()).toBe('write_only');
    expect(linesMatching(second, /^circuit resumed OPEN until /).length).toBe(1);
    first.zep.clearRequests();
    await second.submit('t1', 'while open');
    await runFor(second, 29_000);
    expect(await second.service.search('u1', 't1', 'q', 3)).toEqual({
      results: [],
      degraded: true,
    });
    expect(first.zep.requests()).toEqual([]);
    await runFor(second, 2_000);
    expect(first.zep.requests().length).toBe(1);
  });

  test('skipped calls are summarised at most once per cooldown and counted in metrics', async () => {
    await using h = await memoryHarness({
      breaker: { cooldownMs: 30_000, cooldownMaxMs: 600_000 },
    });
    h.service.openCircuit(600_000);
    for (let s = 0; s < 120; s++) {
      h.clock.advance(1000);
      await h.service.search('u1', 't1', 'q', 3);
    }
    const summaries = linesMatching(h, /calls skipped while the circuit is open$/);
    expect(summaries.length).toBeGreaterThanOrEqual(3);
    expect(summaries.length).toBeLessThanOrEqual(4);
    const text = await h.metrics.registry.metrics();
    expect(text).toContain(
      'lifeline_breaker_skipped_calls_total{backend="zep",operation="search"} 120',
    );
    expect(text).toContain('lifeline_breaker_state{backend="zep"} 2');
    expect(h.zep.requests()).toEqual([]);
  });

  test('live settings: a lower threshold applies from the next failure', async () => {
    await using h = await memoryHarness();
    h.service.updateSettings({
      breaker: { failureThreshold: 2 },
      outbox: { batchSize: 1 },
      timeoutMs: 500,
    });
    expect(h.backend.http.timeoutMs).toBe(500);
    await h.zep.setFault({ kind: 'status', status: 500 });
    await h.service.search('u1', 't1', 'q', 3);
    expect(h.service.status()).toBe('ok');
    await h.service.search('u1', 't1', 'q', 3);
    expect(h.service.status()).toBe('write_only');
    expect(() => h.service.updateSettings({ breaker: { failureThreshold: 0 } })).toThrow(
      RangeError,
    );
  });

  test('admin close and reset return to ok and persist', async () => {
    await using h = await memoryHarness();
    h.service.openCircuit();
    expect(h.service.status()).toBe('write_only');
    h.service.closeCircuit();
    expect(h.service.status()).toBe('ok');
    h.service.resetCircuit();
    await h.service.persisted();
    expect(await h.db.store.loadBreakerState('zep')).toMatchObject({
      state: 'closed',
      reason: null,
      lastError: null,
    });
  });
});
