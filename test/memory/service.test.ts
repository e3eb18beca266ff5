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

describe('breaker over the outbox', () => {
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
