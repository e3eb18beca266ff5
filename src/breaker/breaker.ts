/**
 * @module The circuit breaker (docs/design.md#memory, #wrong-api-version, #retry-after, #clock): a
 * pure state machine over an injected clock. It does no I/O; the memory layer persists {@link
 * CircuitBreaker.snapshot} on each transition event and hands it back as `initial` after a restart.
 */
import type { Clock } from '../lib/clock.ts';
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import { describeError } from '../lib/errors.ts';
import { nextCooldownMs } from './cooldown.ts';
import { BreakerOpenError } from './errors.ts';
import { assertBreakerSettings, type BreakerSettings, DEFAULT_JITTER_RATIO } from './options.ts';
import { type BreakerClassifier, type BreakerFailure, validRetryAfterMs } from './outcome.ts';
import {
  type BreakerSnapshot,
  type BreakerStateName,
  type BreakerTransition,
  checkBreakerSnapshot,
  type OpenReason,
  type TransitionReason,
} from './state.ts';

/** Options of {@link CircuitBreaker}; `jitterRatio` defaults to 0.1, `probeTimeoutMs` to `cooldownMaxMs`. */
export interface BreakerOptions
  extends Omit<BreakerSettings, 'jitterRatio' | 'probeTimeoutMs'>,
    Partial<Pick<BreakerSettings, 'jitterRatio' | 'probeTimeoutMs'>> {
  /** Cooldowns run on `clock.monoMs()`, snapshots on `clock.wallMs()` (docs/design.md#clock). */
  clock: Clock;
  /** Uniform draws in [0, 1) for jitter; defaults to `Math.random`. */
  random?: () => number;
  /** Persisted state to resume from (docs/design.md#memory, #clock). */
  initial?: BreakerSnapshot;
}

/** The permit returned by {@link CircuitBreaker.tryAcquire} when the call must not be made. */
export const NO_PERMIT = 0;

/**
 * A consecutive-failure circuit breaker: closed → open after `failureThreshold` consecutive
 * failures → half-open once the cooldown has passed → closed on a successful probe, or open again
 * with the cooldown multiplied by `backoff` (capped, jittered). Flat fields, not a tagged union, so
 * the closed path allocates nothing. Each transition advances an epoch; a permit is the epoch it
 * was granted in, so the late outcome of a call that started before a transition is ignored.
 * Every call made with a permit must be bounded by the caller's timeout and then settled with
 * {@link recordSuccess}, {@link recordFailure} or {@link release}. A half-open permit left
 * unsettled for `probeTimeoutMs` counts as a failed probe, so the circuit cannot stick half-open.
 */
export class CircuitBreaker {
  private settings: BreakerSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly events = new Emitter<{ transition: [event: BreakerTransition] }>();
  private current: BreakerStateName = 'closed';
  private epoch = 1;
  private failures = 0;
  private reopens = 0;
  private openReasonValue: OpenReason | null = null;
  private lastErrorValue: string | null = null;
  private openedAtWallMs: number | null = null;
  private retryAtMs = 0;
  private probesInFlight = 0;
  private lastProbeAtMs = 0;
  private skipped = 0;
  private rejected = 0;

  /** @throws RangeError when an option or the `initial` snapshot is invalid */
  constructor(options: BreakerOptions) {
    this.settings = {
      failureThreshold: options.failureThreshold,
      cooldownMs: options.cooldownMs,
      cooldownMaxMs: options.cooldownMaxMs,
      backoff: options.backoff,
      halfOpenMaxCalls: options.halfOpenMaxCalls,
      jitterRatio: options.jitterRatio ?? DEFAULT_JITTER_RATIO,
      probeTimeoutMs: options.probeTimeoutMs ?? options.cooldownMaxMs,
    };
    assertBreakerSettings(this.settings);
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    if (options.initial !== undefined) this.restore(options.initial);
  }

  /** The stored state; an open circuit whose cooldown has passed turns half-open on the next acquire. */
  get state(): BreakerStateName {
    return this.current;
  }

  /** Why it is (or last was) open; 'misconfigured' sets memory status (docs/design.md#memory). */
  get openReason(): OpenReason | null {
    return this.openReasonValue;
  }

  /** Consecutive failures since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Failed probes since the circuit last closed. */
  get reopenCount(): number {
    return this.reopens;
  }

  /** The last failure's description, kept after closing for status pages. */
  get lastError(): string | null {
    return this.lastErrorValue;
  }

  /** Monotonic time from which a probe is allowed while open; null otherwise. */
  get retryAtMonoMs(): number | null {
    return this.current === 'open' ? this.retryAtMs : null;
  }

  /** Calls refused since the last transition (for a rate-limited summary, never a line per call). */
  get skippedSinceLastTransition(): number {
    return this.skipped;
  }

  /** Calls refused over the breaker's life (for a metrics counter). */
  get rejectedTotal(): number {
    return this.rejected;
  }

  /** Half-open probes granted and not yet settled. */
  get probesInFlightCount(): number {
    return this.probesInFlight;
  }

  /** The current tunables. */
  get options(): Readonly<BreakerSettings> {
    return this.settings;
  }

  /**
   * Asks to make one call. Returns a permit (a positive number) to pass to exactly one of
   * {@link recordSuccess}, {@link recordFailure} or {@link release}, or {@link NO_PERMIT} when
   * the circuit is open, or half-open with all probe slots taken. Never allocates.
   */
  tryAcquire(): number {
    if (this.current === 'closed') return this.epoch;
    return this.acquireSlow();
  }

  /** Settles a permit whose call got an answer; a probe's success closes the circuit. */
  recordSuccess(permit: number): void {
    if (permit !== this.epoch) return;
    if (this.current === 'closed') {
      this.failures = 0;
    } else if (this.current === 'half_open') {
      this.enterClosed('probe_succeeded');
    }
  }

  /** Settles a permit whose call failed; may open the circuit (docs/design.md#breaker). */
  recordFailure(permit: number, failure: BreakerFailure): void {
    if (permit !== this.epoch) return;
    this.failures++;
    this.lastErrorValue = failure.error;
    const retryAfterMs = validRetryAfterMs(failure.retryAfterMs);
    if (this.current === 'half_open') {
      this.reopens++;
      this.openAfterFailure(failure, retryAfterMs);
    } else if (failure.misconfigured === true || retryAfterMs !== undefined) {
      this.openAfterFailure(failure, retryAfterMs);
    } else if (this.failures >= this.settings.failureThreshold) {
      this.openAfterFailure(failure, undefined);
    }
  }

  /** Settles a permit without an outcome (the call was cancelled); frees its half-open slot. */
  release(permit: number): void {
    if (permit === this.epoch && this.current === 'half_open' && this.probesInFlight > 0) {
      this.probesInFlight--;
    }
  }

  /**
   * Runs `fn` under the breaker: a resolved value is a success unless `classify.value` says
   * otherwise, a throw a failure unless `classify.error` returns null.
   * @throws BreakerOpenError (as a rejection) without calling `fn` when no permit is available
   */
  execute<T>(fn: () => T | PromiseLike<T>, classify?: BreakerClassifier<T>): Promise<T> {
    const permit = this.tryAcquire();
    // Not async, so a refusal skips the async frame and the throw: it is the hot path while open.
    if (permit === NO_PERMIT) return Promise.reject(BreakerOpenError.create(this.retryAtMs));
    return this.runWithPermit(permit, fn, classify);
  }

  /** Opens by hand for `cooldownMs` (default the base cooldown, ≤ cooldownMaxMs); emits even if open. */
  open(cooldownMs: number = this.settings.cooldownMs, error: string | null = null): void {
    if (!(cooldownMs >= 0)) throw new RangeError(`cooldownMs must be ≥ 0, got ${cooldownMs}`);
    if (error !== null) this.lastErrorValue = error;
    this.enterOpen('manual', Math.min(cooldownMs, this.settings.cooldownMaxMs));
  }

  /** Closes the circuit by hand and clears the failure and backoff counters; keeps `lastError`. */
  close(): void {
    if (this.current === 'closed') {
      this.failures = 0;
      this.reopens = 0;
      return;
    }
    this.enterClosed('manual');
  }

  /** Returns to the pristine closed state: counters, reason, last error and skip count cleared. */
  reset(): void {
    this.close();
    this.lastErrorValue = null;
    this.openReasonValue = null;
    this.openedAtWallMs = null;
    this.skipped = 0;
  }

  /**
   * Applies new tunables at run time: a threshold from the next failure, a cooldown from the next
   * open; a lower cap also shortens the current wait. @throws RangeError (nothing changed) if invalid
   */
  updateOptions(partial: Partial<BreakerSettings>): void {
    const merged = { ...this.settings, ...partial };
    assertBreakerSettings(merged);
    this.settings = merged;
    if (this.current === 'open') {
      this.retryAtMs = Math.min(this.retryAtMs, this.clock.monoMs() + merged.cooldownMaxMs);
    }
  }

  /**
   * Takes over a state decided elsewhere (another instance, through shared storage): the
   * snapshot's counters and reason, open until its probe time (clamped to cooldownMaxMs) or
   * closed. Emits one transition unless closed stays closed. @throws RangeError on a bad snapshot
   */
  adopt(snapshot: BreakerSnapshot): void {
    const from = this.current;
    this.current = 'closed';
    this.restore(snapshot);
    const open = this.state === 'open';
    if (from === 'closed' && !open) return;
    const waitMs = open ? Math.max(0, this.retryAtMs - this.clock.monoMs()) : null;
    this.emit(from, open ? (this.openReasonValue ?? 'failures') : 'probe_succeeded', waitMs);
  }

  /** Subscribes to transitions; returns the unsubscribe function. Listeners must not throw. */
  onTransition(listener: (event: BreakerTransition) => void): Unsubscribe {
    return this.events.on('transition', listener);
  }

  /** The durable state in wall-clock time, for the caller to persist on each transition. */
  snapshot(): BreakerSnapshot {
    const open = this.current === 'open';
    const waitMs = open ? Math.max(0, this.retryAtMs - this.clock.monoMs()) : 0;
    return {
      state: this.current,
      consecutiveFailures: this.failures,
      openedAtWallMs: this.openedAtWallMs,
      nextProbeAtWallMs: open ? this.clock.wallMs() + waitMs : null,
      reopenCount: this.reopens,
      lastError: this.lastErrorValue,
      reason: this.openReasonValue,
    };
  }

  private async runWithPermit<T>(
    permit: number,
    fn: () => T | PromiseLike<T>,
    classify: BreakerClassifier<T> | undefined,
  ): Promise<T> {
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      const classifyError = classify?.error;
      const failure =
        classifyError === undefined ? { error: describeError(error) } : classifyError(error);
      if (failure === null) this.recordSuccess(permit);
      else this.recordFailure(permit, failure);
      throw error;
    }
    const failure = classify?.value === undefined ? null : classify.value(value);
    if (failure === null) this.recordSuccess(permit);
    else this.recordFailure(permit, failure);
    return value;
  }

  private acquireSlow(): number {
    const nowMs = this.clock.monoMs();
    if (this.current === 'open') {
      if (nowMs < this.retryAtMs) return this.refuse();
      this.enterHalfOpen();
      // A listener may have acquired or transitioned re-entrantly; check again.
      if (this.state !== 'half_open') return this.refuse();
    }
    if (this.probesInFlight < this.settings.halfOpenMaxCalls) {
      this.probesInFlight++;
      this.lastProbeAtMs = nowMs;
      return this.epoch;
    }
    return this.refuseOrTimeOut(nowMs);
  }

  /** All probe slots are taken: refuse, and count the probes as failed once they are overdue. */
  private refuseOrTimeOut(nowMs: number): number {
    if (nowMs - this.lastProbeAtMs >= this.settings.probeTimeoutMs) {
      this.failures++;
      this.reopens++;
      this.lastErrorValue = `half-open probe unsettled after ${this.settings.probeTimeoutMs} ms`;
      this.openAfterFailure({ error: this.lastErrorValue }, undefined);
    }
    return this.refuse();
  }

  private refuse(): number {
    this.skipped++;
    this.rejected++;
    return NO_PERMIT;
  }

  private openAfterFailure(failure: BreakerFailure, retryAfterMs: number | undefined): void {
    if (failure.misconfigured === true) {
      // docs/design.md#wrong-api-version: re-check once per cooldown_max, whatever the backoff.
      this.enterOpen('misconfigured', this.settings.cooldownMaxMs);
      return;
    }
    const cooldownMs = nextCooldownMs({
      baseMs: this.settings.cooldownMs,
      maxMs: this.settings.cooldownMaxMs,
      backoff: this.settings.backoff,
      reopenCount: this.reopens,
      jitterRatio: this.settings.jitterRatio,
      random: this.random,
      minMs: retryAfterMs,
    });
    this.enterOpen(retryAfterMs === undefined ? 'failures' : 'retry_after', cooldownMs);
  }

  private enterOpen(reason: OpenReason, cooldownMs: number): void {
    const from = this.current;
    this.current = 'open';
    this.openReasonValue = reason;
    this.openedAtWallMs = this.clock.wallMs();
    this.retryAtMs = this.clock.monoMs() + cooldownMs;
    this.emit(from, reason, cooldownMs);
  }

  private enterHalfOpen(): void {
    this.current = 'half_open';
    this.emit('open', 'cooldown_elapsed', null);
  }

  private enterClosed(reason: 'probe_succeeded' | 'manual'): void {
    const from = this.current;
    this.current = 'closed';
    this.failures = 0;
    this.reopens = 0;
    this.emit(from, reason, null);
  }

  /** Ends the previous state's epoch and tells the listeners. */
  private emit(from: BreakerStateName, reason: TransitionReason, cooldownMs: number | null): void {
    this.epoch++;
    this.probesInFlight = 0;
    const event: BreakerTransition = {
      from,
      to: this.current,
      reason,
      consecutiveFailures: this.failures,
      reopenCount: this.reopens,
      cooldownMs,
      retryAtMonoMs: cooldownMs === null ? null : this.retryAtMs,
      error: this.current === 'closed' ? null : this.lastErrorValue,
      skippedCalls: this.skipped,
    };
    this.skipped = 0;
    this.events.emit('transition', event);
  }

  /** Resumes from persisted state; an open circuit stays open until its (clamped) probe time. */
  private restore(initial: BreakerSnapshot): void {
    const problems = checkBreakerSnapshot(initial);
    if (problems.length > 0)
      throw new RangeError(`invalid breaker snapshot: ${problems.join('; ')}`);
    this.failures = initial.consecutiveFailures;
    this.reopens = initial.reopenCount;
    this.lastErrorValue = initial.lastError;
    this.openReasonValue = initial.reason;
    this.openedAtWallMs = initial.openedAtWallMs;
    if (initial.state === 'closed') return;
    // A persisted half-open had a probe in flight when the process died: open, probe due now.
    const nextWallMs = initial.state === 'open' ? initial.nextProbeAtWallMs : null;
    const waitMs = nextWallMs === null ? 0 : nextWallMs - this.clock.wallMs();
    // docs/design.md#clock: a wall clock that jumped back must not hold the circuit open beyond the
    // cap.
    const clampedMs = Math.min(Math.max(waitMs, 0), this.settings.cooldownMaxMs);
    this.current = 'open';
    this.openReasonValue = initial.reason ?? 'failures';
    this.retryAtMs = this.clock.monoMs() + clampedMs;
  }
}
