import { describe, expect, test } from 'bun:test';
import { NO_PERMIT } from '../../src/breaker/breaker.ts';
import { BreakerOpenError } from '../../src/breaker/errors.ts';
import { failTimes, makeBreaker, openedBreaker, TIMEOUT } from './helpers.ts';

describe('CircuitBreaker transitions', () => {
  test('stays closed below the threshold and emits nothing', () => {
    const { breaker, events } = makeBreaker();
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(4);
    expect(events).toEqual([]);
  });

  test('opens after five consecutive failures with one event', () => {
    const { breaker, events, clock } = makeBreaker();
    failTimes(breaker, 5);
    expect(breaker.state).toBe('open');
    expect(breaker.openReason).toBe('failures');
    expect(breaker.retryAtMonoMs).toBe(clock.monoMs() + 30_000);
    expect(events).toEqual([
      {
        from: 'closed',
        to: 'open',
        reason: 'failures',
        consecutiveFailures: 5,
        reopenCount: 0,
        cooldownMs: 30_000,
        retryAtMonoMs: clock.monoMs() + 30_000,
        error: TIMEOUT.error,
        skippedCalls: 0,
      },
    ]);
  });

  test('a success in between resets the count (fail×4, ok, fail×4 stays closed)', () => {
    const { breaker, events } = makeBreaker();
    failTimes(breaker, 4);
    breaker.recordSuccess(breaker.tryAcquire());
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(4);
    expect(events).toEqual([]);
  });

  test('refuses every call while open and counts the refusals', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(29_999);
    for (let i = 0; i < 7; i++) expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    expect(breaker.state).toBe('open');
    expect(breaker.skippedSinceLastTransition).toBe(7);
    expect(breaker.rejectedTotal).toBe(7);
  });

  test('half-opens at the probe time and closes on a successful probe', () => {
    const { breaker, clock, events } = openedBreaker();
    breaker.tryAcquire();
    clock.advance(30_000);
    const probe = breaker.tryAcquire();
    expect(probe).not.toBe(NO_PERMIT);
    expect(breaker.state).toBe('half_open');
    breaker.recordSuccess(probe);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(events.map((e) => [e.from, e.to, e.reason, e.skippedCalls])).toEqual([
      ['closed', 'open', 'failures', 0],
      ['open', 'half_open', 'cooldown_elapsed', 1],
      ['half_open', 'closed', 'probe_succeeded', 0],
    ]);
  });

  test('each failed probe doubles the cooldown up to the cap, and success resets it', () => {
    const { breaker, clock, events } = openedBreaker();
    const cooldowns: Array<number | null> = [];
    for (let i = 0; i < 6; i++) {
      clock.advance(breaker.retryAtMonoMs! - clock.monoMs());
      breaker.recordFailure(breaker.tryAcquire(), TIMEOUT);
      cooldowns.push(events.at(-1)!.cooldownMs);
    }
    expect(cooldowns).toEqual([60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
    expect(breaker.reopenCount).toBe(6);
    clock.advance(300_000);
    breaker.recordSuccess(breaker.tryAcquire());
    expect(breaker.reopenCount).toBe(0);
    failTimes(breaker, 5);
    expect(events.at(-1)!.cooldownMs).toBe(30_000);
  });

  test('a lower threshold set at run time applies to the next failure', () => {
    const { breaker } = makeBreaker();
    failTimes(breaker, 3);
    breaker.updateOptions({ failureThreshold: 2 });
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker half-open', () => {
  test('lets exactly halfOpenMaxCalls of 10 concurrent calls reach the function', async () => {
    for (const halfOpenMaxCalls of [1, 3]) {
      const { breaker, clock } = openedBreaker({ halfOpenMaxCalls });
      clock.advance(30_000);
      let reached = 0;
      const release = Promise.withResolvers<void>();
      const calls = Array.from({ length: 10 }, () =>
        breaker.execute(async () => {
          reached++;
          await release.promise;
          return 'ok';
        }),
      );
      expect(reached).toBe(halfOpenMaxCalls);
      release.resolve();
      const outcomes = await Promise.allSettled(calls);
      const refused = outcomes.filter(
        (o) => o.status === 'rejected' && o.reason instanceof BreakerOpenError,
      );
      expect(refused.length).toBe(10 - halfOpenMaxCalls);
      expect(breaker.state).toBe('closed');
    }
  });

  test('a failed probe re-opens at once and discards the other probes’ outcomes', () => {
    const { breaker, clock, events } = openedBreaker({ halfOpenMaxCalls: 2 });
    clock.advance(30_000);
    const first = breaker.tryAcquire();
    const second = breaker.tryAcquire();
    breaker.recordFailure(first, TIMEOUT);
    breaker.recordSuccess(second);
    expect(breaker.state).toBe('open');
    expect(events.at(-1)).toMatchObject({ from: 'half_open', to: 'open', cooldownMs: 60_000 });
  });

  test('a call begun while closed that ends after the circuit opened is ignored', () => {
    const { breaker, clock } = makeBreaker();
    const early = breaker.tryAcquire();
    failTimes(breaker, 5);
    clock.advance(30_000);
    const probe = breaker.tryAcquire();
    breaker.recordSuccess(early);
    expect(breaker.state).toBe('half_open');
    breaker.recordFailure(early, TIMEOUT);
    expect(breaker.state).toBe('half_open');
    breaker.recordSuccess(probe);
    expect(breaker.state).toBe('closed');
  });

  test('a released probe frees its slot without changing state', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(30_000);
    const probe = breaker.tryAcquire();
    expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    breaker.release(probe);
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).not.toBe(NO_PERMIT);
  });

  test('a probe never settled counts as failed after probeTimeoutMs, so half-open cannot stick', () => {
    const { breaker, clock, events } = openedBreaker({ probeTimeoutMs: 4_000 });
    clock.advance(30_000);
    breaker.tryAcquire();
    clock.advance(3_999);
    expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    expect(breaker.state).toBe('half_open');
    clock.advance(1);
    expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    expect(breaker.state).toBe('open');
    expect(events.at(-1)).toMatchObject({ from: 'half_open', reopenCount: 1, cooldownMs: 60_000 });
    expect(breaker.lastError).toBe('half-open probe unsettled after 4000 ms');
  });
});

describe('CircuitBreaker Retry-After and misconfiguration', () => {
  test('a 429 with Retry-After opens at once with Retry-After as the minimum cooldown', () => {
    const { breaker, events } = makeBreaker();
    breaker.recordFailure(breaker.tryAcquire(), { error: '429', retryAfterMs: 120_000 });
    expect(breaker.state).toBe('open');
    expect(breaker.openReason).toBe('retry_after');
    expect(events.at(-1)!.cooldownMs).toBe(120_000);
  });

  test('a short Retry-After still waits the whole cooldown', () => {
    const { breaker, events } = makeBreaker();
    breaker.recordFailure(breaker.tryAcquire(), { error: '429', retryAfterMs: 1_000 });
    expect(events.at(-1)!.cooldownMs).toBe(30_000);
  });

  test('a huge Retry-After is capped at cooldownMaxMs', () => {
    const { breaker, events } = makeBreaker();
    breaker.recordFailure(breaker.tryAcquire(), { error: '429', retryAfterMs: 1e12 });
    expect(events.at(-1)!.cooldownMs).toBe(300_000);
  });

  test.each([Number.NaN, -5_000, Number.POSITIVE_INFINITY])(
    'a junk Retry-After (%p) counts as a plain failure',
    (retryAfterMs) => {
      const { breaker } = makeBreaker();
      breaker.recordFailure(breaker.tryAcquire(), { error: '429', retryAfterMs });
      expect(breaker.state).toBe('closed');
      expect(breaker.consecutiveFailures).toBe(1);
    },
  );

  test('a route-404 opens at once as misconfigured and re-checks once per cooldownMaxMs', () => {
    const { breaker, clock, events } = makeBreaker();
    const misconfigured = { error: 'route missing', misconfigured: true };
    breaker.recordFailure(breaker.tryAcquire(), misconfigured);
    expect(breaker.openReason).toBe('misconfigured');
    expect(events.at(-1)!.cooldownMs).toBe(300_000);
    clock.advance(299_999);
    expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    clock.advance(1);
    breaker.recordFailure(breaker.tryAcquire(), misconfigured);
    expect(events.at(-1)).toMatchObject({ reason: 'misconfigured', cooldownMs: 300_000 });
  });
});

describe('CircuitBreaker manual control and execute', () => {
  test('open, close and reset by hand emit one event per transition', () => {
    const { breaker, clock, events } = makeBreaker();
    breaker.open(10_000, 'operator');
    expect(breaker.openReason).toBe('manual');
    expect(breaker.retryAtMonoMs).toBe(clock.monoMs() + 10_000);
    breaker.close();
    breaker.close();
    failTimes(breaker, 2);
    breaker.reset();
    expect(breaker.snapshot()).toMatchObject({ consecutiveFailures: 0, lastError: null });
    expect(events.map((e) => [e.from, e.to, e.reason])).toEqual([
      ['closed', 'open', 'manual'],
      ['open', 'closed', 'manual'],
    ]);
  });

  test('a manual cooldown longer than the cap is capped', () => {
    const { breaker, clock } = makeBreaker();
    breaker.open(86_400_000);
    expect(breaker.retryAtMonoMs).toBe(clock.monoMs() + 300_000);
  });

  test('execute refuses with BreakerOpenError without calling the function', async () => {
    const { breaker } = openedBreaker();
    const limitBefore = Error.stackTraceLimit;
    let called = false;
    const call = breaker.execute(() => {
      called = true;
    });
    await expect(call).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(call).rejects.toMatchObject({
      code: 'breaker_open',
      retryAtMonoMs: breaker.retryAtMonoMs,
    });
    expect(Error.stackTraceLimit).toBe(limitBefore);
    expect(called).toBe(false);
  });

  test('execute classifies values and errors', async () => {
    const { breaker } = makeBreaker({ failureThreshold: 2 });
    const classify = {
      value: (status: number) => (status >= 500 ? { error: `HTTP ${status}` } : null),
      error: (error: unknown) => (error === 'answer' ? null : { error: String(error) }),
    };
    expect(await breaker.execute(() => 503, classify)).toBe(503);
    expect(breaker.consecutiveFailures).toBe(1);
    expect(await breaker.execute(() => 404, classify)).toBe(404);
    expect(breaker.consecutiveFailures).toBe(0);
    await expect(breaker.execute(() => Promise.reject('answer'), classify)).rejects.toBe('answer');
    expect(breaker.consecutiveFailures).toBe(0);
    await expect(breaker.execute(() => Promise.reject('reset'), classify)).rejects.toBe('reset');
    expect(breaker.lastError).toBe('reset');
  });

  test('an unsubscribed listener hears nothing more', () => {
    const { breaker } = makeBreaker();
    let heard = 0;
    const off = breaker.onTransition(() => heard++);
    breaker.open();
    off();
    breaker.close();
    expect(heard).toBe(1);
  });

  test('invalid options are refused with every problem named', () => {
    expect(() => makeBreaker({ failureThreshold: 0, cooldownMaxMs: 1 })).toThrow(
      /failureThreshold must be an integer ≥ 1, got 0; .*cooldownMaxMs \(1\) must be ≥ cooldownMs/,
    );
    const { breaker } = makeBreaker();
    expect(() => breaker.updateOptions({ backoff: 0.5 })).toThrow(RangeError);
    expect(breaker.options.backoff).toBe(2);
  });
});
