/**
 * Model-based test (docs/design.md#model-tests, after TigerBeetle's "Queue: fuzz"): seeded random
 * sequences of acquire / success / failure / release / advance / manual / restart steps run against
 * the real breaker and a deliberately naive reference model; after every step both must agree.
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { CircuitBreaker, NO_PERMIT } from '../../src/breaker/breaker.ts';
import type { BreakerSettings } from '../../src/breaker/options.ts';
import type { BreakerFailure } from '../../src/breaker/outcome.ts';
import type { BreakerSnapshot, BreakerStateName, OpenReason } from '../../src/breaker/state.ts';
import { FakeClock } from '../support/clock.ts';

/**
 * The reference: the rules of docs/design.md#memory, #edge-cases written the obvious way, with a
 * set of live permits.
 */
class Model {
  state: BreakerStateName = 'closed';
  failures = 0;
  reopens = 0;
  reason: OpenReason | null = null;
  retryAtMs = 0;
  inFlight = 0;
  lastProbeMs = 0;
  skipped = 0;
  rejected = 0;
  transitions = 0;
  private live = new Set<number>();
  private nextId = 1;

  constructor(
    readonly s: BreakerSettings,
    readonly r: number,
  ) {}

  acquire(nowMs: number): number {
    if (this.state === 'open' && nowMs >= this.retryAtMs) this.move('half_open');
    if (
      this.state === 'closed' ||
      (this.state === 'half_open' && this.inFlight < this.s.halfOpenMaxCalls)
    ) {
      if (this.state === 'half_open') {
        this.inFlight++;
        this.lastProbeMs = nowMs;
      }
      this.live.add(this.nextId);
      return this.nextId++;
    }
    if (this.state === 'half_open' && nowMs - this.lastProbeMs >= this.s.probeTimeoutMs) {
      this.failures++;
      this.reopens++;
      this.openFor(nowMs, 'failures', this.cooldown());
    }
    this.skipped++;
    this.rejected++;
    return 0;
  }

  success(id: number): void {
    if (!this.live.delete(id)) return;
    if (this.state === 'closed') this.failures = 0;
    else this.closeNow();
  }

  failure(id: number, nowMs: number, f: BreakerFailure): void {
    if (!this.live.delete(id)) return;
    this.failures++;
    const ra =
      f.retryAfterMs !== undefined && Number.isFinite(f.retryAfterMs) && f.retryAfterMs >= 0;
    const halfOpen = this.state === 'half_open';
    if (halfOpen) this.reopens++;
    if (!halfOpen && !f.misconfigured && !ra && this.failures < this.s.failureThreshold) return;
    if (f.misconfigured) this.openFor(nowMs, 'misconfigured', this.s.cooldownMaxMs);
    else if (ra) this.openFor(nowMs, 'retry_after', this.cooldown(f.retryAfterMs));
    else this.openFor(nowMs, 'failures', this.cooldown());
  }

  release(id: number): void {
    if (this.live.delete(id) && this.state === 'half_open') this.inFlight--;
  }

  manualOpen(nowMs: number, ms: number): void {
    this.openFor(nowMs, 'manual', Math.min(ms, this.s.cooldownMaxMs));
  }

  closeNow(): void {
    if (this.state !== 'closed') this.move('closed');
    this.failures = 0;
    this.reopens = 0;
  }

  /** A new process from the persisted state: half-open becomes open with the probe due now. */
  restart(nowMs: number): void {
    this.live.clear();
    this.inFlight = 0;
    this.skipped = 0;
    this.rejected = 0;
    if (this.state === 'half_open') this.retryAtMs = nowMs;
    const waitMs = Math.min(Math.max(this.retryAtMs - nowMs, 0), this.s.cooldownMaxMs);
    if (this.state === 'open') this.retryAtMs = nowMs + waitMs;
    if (this.state !== 'closed') this.state = 'open';
  }

  private cooldown(minMs?: number): number {
    let ms = this.s.cooldownMs;
    for (let i = 0; i < this.reopens && ms < this.s.cooldownMaxMs; i++) ms *= this.s.backoff;
    ms = Math.round(
      Math.min(ms, this.s.cooldownMaxMs) * (1 + this.s.jitterRatio * (2 * this.r - 1)),
    );
    return minMs === undefined
      ? ms
      : Math.max(ms, Math.round(Math.min(minMs, this.s.cooldownMaxMs)));
  }

  private openFor(nowMs: number, reason: OpenReason, ms: number): void {
    this.move('open');
    this.reason = reason;
    this.retryAtMs = nowMs + ms;
  }

  private move(to: BreakerStateName): void {
    this.state = to;
    this.live.clear();
    this.inFlight = 0;
    this.skipped = 0;
    this.transitions++;
  }
}

const failureArb: fc.Arbitrary<BreakerFailure> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ error: 'timeout' }) },
  { weight: 1, arbitrary: fc.constant({ error: 'route', misconfigured: true }) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.integer({ min: 0, max: 1_000 }), fc.constantFrom(Number.NaN, -1, 1e12))
      .map((retryAfterMs) => ({ error: '429', retryAfterMs })),
  },
);

type Step =
  | { kind: 'acquire' }
  | { kind: 'success'; pick: number }
  | { kind: 'release'; pick: number }
  | { kind: 'failure'; pick: number; failure: BreakerFailure }
  | { kind: 'advance'; ms: number }
  | { kind: 'open'; ms: number }
  | { kind: 'close' }
  | { kind: 'restart' };

const pick = fc.nat(1_000);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  { weight: 4, arbitrary: pick.map((p) => ({ kind: 'success' as const, pick: p })) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('failure' as const), pick, failure: failureArb }),
  },
  { weight: 1, arbitrary: pick.map((p) => ({ kind: 'release' as const, pick: p })) },
  {
    weight: 5,
    arbitrary: fc.integer({ min: 0, max: 400 }).map((ms) => ({ kind: 'advance' as const, ms })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 500 }).map((ms) => ({ kind: 'open' as const, ms })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

const settingsArb: fc.Arbitrary<BreakerSettings> = fc
  .record({
    failureThreshold: fc.integer({ min: 1, max: 4 }),
    cooldownMs: fc.integer({ min: 10, max: 100 }),
    extraMaxMs: fc.integer({ min: 0, max: 300 }),
    backoff: fc.constantFrom(1, 1.5, 2, 3),
    halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
    jitterRatio: fc.constantFrom(0, 0.1),
    probeTimeoutMs: fc.integer({ min: 50, max: 500 }),
  })
  .map(({ extraMaxMs, ...s }) => ({ ...s, cooldownMaxMs: s.cooldownMs + extraMaxMs }));

/** Drives the real breaker and the model in step and compares them. */
class Harness {
  readonly clock = new FakeClock();
  readonly model: Model;
  real: CircuitBreaker;
  events = 0;
  permits: Array<{ real: number; model: number }> = [];

  constructor(
    readonly settings: BreakerSettings,
    readonly r: number,
  ) {
    this.model = new Model(settings, r);
    this.real = this.make();
  }

  make(initial?: BreakerSnapshot): CircuitBreaker {
    const { clock, r } = this;
    const breaker = new CircuitBreaker({ ...this.settings, clock, random: () => r, initial });
    breaker.onTransition(() => this.events++);
    return breaker;
  }

  apply(step: Step): void {
    const nowMs = this.clock.monoMs();
    switch (step.kind) {
      case 'acquire': {
        const permit = { real: this.real.tryAcquire(), model: this.model.acquire(nowMs) };
        expect(permit.real === NO_PERMIT).toBe(permit.model === 0);
        if (permit.model !== 0) this.permits.push(permit);
        return;
      }
      case 'advance':
        this.clock.advance(step.ms);
        return;
      case 'open':
        this.real.open(step.ms);
        this.model.manualOpen(nowMs, step.ms);
        return;
      case 'close':
        this.real.close();
        this.model.closeNow();
        return;
      case 'restart':
        this.real = this.make(this.real.snapshot());
        this.permits = [];
        this.model.restart(nowMs);
        return;
      default:
        this.settle(step, nowMs);
        return;
    }
  }

  settle(step: Extract<Step, { pick: number }>, nowMs: number): void {
    if (this.permits.length === 0) return;
    const permit = this.permits.splice(step.pick % this.permits.length, 1)[0]!;
    if (step.kind === 'success') {
      this.real.recordSuccess(permit.real);
      this.model.success(permit.model);
    } else if (step.kind === 'release') {
      this.real.release(permit.real);
      this.model.release(permit.model);
    } else {
      this.real.recordFailure(permit.real, step.failure);
      this.model.failure(permit.model, nowMs, step.failure);
    }
  }

  check(): void {
    const { real, model } = this;
    expect({
      state: real.state,
      failures: real.consecutiveFailures,
      reopens: real.reopenCount,
      reason: real.state === 'closed' ? null : real.openReason,
      retryAtMs: real.retryAtMonoMs,
      inFlight: real.probesInFlightCount,
      skipped: real.skippedSinceLastTransition,
      rejected: real.rejectedTotal,
      transitions: this.events,
    }).toEqual({
      state: model.state,
      failures: model.failures,
      reopens: model.reopens,
      reason: model.state === 'closed' ? null : model.reason,
      retryAtMs: model.state === 'open' ? model.retryAtMs : null,
      inFlight: model.state === 'half_open' ? model.inFlight : 0,
      skipped: model.skipped,
      rejected: model.rejected,
      transitions: model.transitions,
    });
  }
}

function runSequence(settings: BreakerSettings, r: number, steps: Step[]): void {
  const harness = new Harness(settings, r);
  for (const step of steps) {
    harness.apply(step);
    harness.check();
  }
}

describe('CircuitBreaker against a reference model', () => {
  test('agrees with the model on state, permits and counts over seeded random sequences', () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.array(stepArb, { minLength: 1, maxLength: 200, size: 'max' }),
        runSequence,
      ),
      { seed: 20261124, numRuns: 1_000 },
    );
  });
});
