import { describe, expect, test } from 'bun:test';
import { CircuitBreaker, NO_PERMIT } from '../../src/breaker/breaker.ts';
import { type BreakerSnapshot, checkBreakerSnapshot } from '../../src/breaker/state.ts';
import { FakeClock } from '../support/clock.ts';
import { DEFAULTS, failTimes, makeBreaker, openedBreaker, TIMEOUT } from './helpers.ts';

/** A new process: same wall time, an unrelated monotonic origin. */
function restart(clock: FakeClock, initial: BreakerSnapshot) {
  const next = new FakeClock(clock.wallMs(), 42);
  const breaker = new CircuitBreaker({ ...DEFAULTS, clock: next, random: () => 0.5, initial });
  return { clock: next, breaker };
}

describe('CircuitBreaker snapshot and restore', () => {
  test('an open snapshot holds wall times and JSON-round-trips', () => {
    const { breaker, clock } = openedBreaker();
    const openedAt = clock.wallMs();
    clock.advance(10_000);
    const snapshot = breaker.snapshot();
    expect(snapshot).toEqual({
      state: 'open',
      consecutiveFailures: 5,
      openedAtWallMs: openedAt,
      nextProbeAtWallMs: openedAt + 30_000,
      reopenCount: 0,
      lastError: TIMEOUT.error,
      reason: 'failures',
    });
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(checkBreakerSnapshot(snapshot)).toEqual([]);
  });

  test('a restored open circuit stays open until its probe time, then probes once', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(10_000);
    const next = restart(clock, breaker.snapshot());
    expect(next.breaker.state).toBe('open');
    next.clock.advance(19_999);
    expect(next.breaker.tryAcquire()).toBe(NO_PERMIT);
    next.clock.advance(1);
    expect(next.breaker.tryAcquire()).not.toBe(NO_PERMIT);
    expect(next.breaker.tryAcquire()).toBe(NO_PERMIT);
  });

  test('a restored circuit keeps its backoff: the next failed probe waits longer', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(30_000);
    breaker.recordFailure(breaker.tryAcquire(), TIMEOUT);
    const next = restart(clock, breaker.snapshot());
    const events: Array<number | null> = [];
    next.breaker.onTransition((e) => events.push(e.cooldownMs));
    next.clock.advance(60_000);
    next.breaker.recordFailure(next.breaker.tryAcquire(), TIMEOUT);
    expect(events).toEqual([null, 120_000]);
    expect(next.breaker.reopenCount).toBe(2);
  });

  test('a probe time far in the future (wall clock jumped back) is clamped to cooldownMaxMs', () => {
    const { breaker, clock } = openedBreaker();
    const snapshot = breaker.snapshot();
    clock.setWallMs(clock.wallMs() - 3_600_000);
    const next = restart(clock, snapshot);
    expect(next.breaker.retryAtMonoMs).toBe(42 + 300_000);
  });

  test('a probe time in the past allows a probe at once', () => {
    const { breaker, clock } = openedBreaker();
    const snapshot = breaker.snapshot();
    clock.advance(3_600_000);
    const next = restart(clock, snapshot);
    expect(next.breaker.state).toBe('open');
    expect(next.breaker.tryAcquire()).not.toBe(NO_PERMIT);
    expect(next.breaker.state).toBe('half_open');
  });

  test('a restored half-open circuit becomes open with its probe due now', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(30_000);
    breaker.tryAcquire();
    const next = restart(clock, breaker.snapshot());
    expect(next.breaker.state).toBe('open');
    expect(next.breaker.retryAtMonoMs).toBe(42);
  });

  test('a restored closed circuit keeps its failure count and misconfigured reason survives', () => {
    const closed = makeBreaker();
    failTimes(closed.breaker, 4);
    expect(restart(closed.clock, closed.breaker.snapshot()).breaker.consecutiveFailures).toBe(4);
    const bad = makeBreaker();
    bad.breaker.recordFailure(bad.breaker.tryAcquire(), { error: '404', misconfigured: true });
    expect(restart(bad.clock, bad.breaker.snapshot()).breaker.openReason).toBe('misconfigured');
  });

  test('a corrupt snapshot is refused with its problems named', () => {
    const junk = { state: 'ajar', consecutiveFailures: -1, reopenCount: 0, reason: 'x' };
    expect(checkBreakerSnapshot(junk)).toEqual([
      'bad state',
      'bad consecutiveFailures',
      'bad openedAtWallMs',
      'bad nextProbeAtWallMs',
      'bad lastError',
      'bad reason',
    ]);
    expect(() => restart(new FakeClock(), junk as unknown as BreakerSnapshot)).toThrow(RangeError);
  });
});

describe('CircuitBreaker updateOptions', () => {
  test('a lower cap shortens the current wait', () => {
    const { breaker, clock } = openedBreaker();
    breaker.updateOptions({ cooldownMs: 5_000, cooldownMaxMs: 10_000 });
    expect(breaker.retryAtMonoMs).toBe(clock.monoMs() + 10_000);
  });

  test('a new cooldown applies from the next open', () => {
    const { breaker, clock, events } = openedBreaker();
    breaker.updateOptions({ cooldownMs: 1_000 });
    expect(breaker.retryAtMonoMs).toBe(clock.monoMs() + 30_000);
    breaker.close();
    failTimes(breaker, 5);
    expect(events.at(-1)!.cooldownMs).toBe(1_000);
  });

  test('more half-open slots apply to the next acquire', () => {
    const { breaker, clock } = openedBreaker();
    clock.advance(30_000);
    breaker.tryAcquire();
    expect(breaker.tryAcquire()).toBe(NO_PERMIT);
    breaker.updateOptions({ halfOpenMaxCalls: 2 });
    expect(breaker.tryAcquire()).not.toBe(NO_PERMIT);
  });
});
