/**
 * @module The one door every backend call goes through: it asks the breaker for a permit, times the
 * call, settles the permit from the classified outcome, and counts refused calls. While the circuit
 * is open no request leaves the process (docs/design.md#memory); refusals are summarised in at most
 * one log line per cooldown, never one per call (docs/design.md#memory-logs, docs/faults.md#c4).
 */
import { type CircuitBreaker, NO_PERMIT } from '../breaker/breaker.ts';
import type { BreakerFailure } from '../breaker/outcome.ts';
import type { Clock } from '../lib/clock.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { MemoryOutcome } from './client.ts';
import { failure } from './client.ts';

/** What the gate returns: the backend's outcome, or `skipped` when the circuit refused the call. */
export type GateResult<T> = MemoryOutcome<T> | { kind: 'skipped' };

/** Options for {@link CallGate}. */
interface CallGateOptions {
  breaker: CircuitBreaker;
  backendName: string;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /**
   * Cluster mode: asked before each half-open call for a cluster-wide probe slot; false turns
   * the call into a skip, so N instances do not probe N times.
   */
  admitProbe?: () => Promise<boolean>;
}

const SKIPPED = { kind: 'skipped' } as const;

/**
 * Maps an outcome to what the breaker should record; null means "an answer"
 * (docs/design.md#memory).
 */
function breakerFailureOf(outcome: MemoryOutcome<unknown>): BreakerFailure | null {
  switch (outcome.kind) {
    case 'answer':
    case 'rejected':
      // A rejection is the service answering: the caller's data is at fault, not the service.
      return null;
    case 'failure':
      return outcome.retryAfterMs === undefined
        ? { error: outcome.detail }
        : { error: outcome.detail, retryAfterMs: outcome.retryAfterMs };
    case 'misconfigured':
      return { error: outcome.detail, misconfigured: true };
  }
}

/** Runs backend calls under the breaker. */
export class CallGate {
  private readonly breaker: CircuitBreaker;
  private readonly options: CallGateOptions;
  private skippedSinceSummary = 0;
  private lastSummaryMonoMs: number;

  constructor(options: CallGateOptions) {
    this.options = options;
    this.breaker = options.breaker;
    this.lastSummaryMonoMs = options.clock.monoMs();
  }

  /** True when the circuit is closed. */
  get closed(): boolean {
    return this.breaker.state === 'closed';
  }

  /** True when the circuit is closed and no call failed since the last success: calls may run wide. */
  steady(): boolean {
    return this.closed && this.breaker.consecutiveFailures === 0;
  }

  /** Monotonic time until which the circuit refuses calls, or null when a call may be tried. */
  blockedUntilMonoMs(): number | null {
    const retryAt = this.breaker.retryAtMonoMs;
    if (retryAt === null) return null;
    return retryAt > this.options.clock.monoMs() ? retryAt : null;
  }

  /** Calls `fn` if the breaker allows it; never throws (a thrown error counts as a network failure). */
  async run<T>(operation: string, fn: () => Promise<MemoryOutcome<T>>): Promise<GateResult<T>> {
    const permit = this.breaker.tryAcquire();
    const probing = this.options.admitProbe !== undefined && this.breaker.state === 'half_open';
    if (permit === NO_PERMIT || (probing && !(await this.admitted(permit)))) {
      this.noteSkipped(operation);
      return SKIPPED;
    }
    const startMs = this.options.clock.monoMs();
    let outcome: MemoryOutcome<T>;
    try {
      outcome = await fn();
    } catch (error) {
      outcome = failure('network', describeError(error));
    }
    this.observe(operation, outcome, startMs);
    const breakerFailure = breakerFailureOf(outcome);
    if (breakerFailure === null) this.breaker.recordSuccess(permit);
    else this.breaker.recordFailure(permit, breakerFailure);
    return outcome;
  }

  /** A half-open permit also needs the cluster's probe slot; a refused one is released. */
  private async admitted(permit: number): Promise<boolean> {
    if (await this.options.admitProbe?.()) return true;
    this.breaker.release(permit);
    return false;
  }

  /** Starts a new summary window; called on every transition, whose log line carries the count. */
  resetSummary(): void {
    this.skippedSinceSummary = 0;
    this.lastSummaryMonoMs = this.options.clock.monoMs();
  }

  private observe(operation: string, outcome: MemoryOutcome<unknown>, startMs: number): void {
    const metrics = this.options.metrics;
    if (metrics === undefined) return;
    const label = outcome.kind === 'failure' ? outcome.failure : outcome.kind;
    const seconds = (this.options.clock.monoMs() - startMs) / 1000;
    metrics.memoryRequestSeconds.observe(
      { backend: this.options.backendName, operation, outcome: label },
      Math.max(0, seconds),
    );
  }

  /** Counts a refused call; logs a summary at most once per cooldown. */
  private noteSkipped(operation: string): void {
    this.options.metrics?.breakerSkipped.inc({ backend: this.options.backendName, operation });
    this.skippedSinceSummary++;
    const nowMs = this.options.clock.monoMs();
    if (nowMs - this.lastSummaryMonoMs < this.breaker.options.cooldownMs) return;
    this.options.logger.info(
      `${this.skippedSinceSummary} memory calls skipped while the circuit is open`,
      {
        backend: this.options.backendName,
        skipped: this.skippedSinceSummary,
      },
    );
    this.skippedSinceSummary = 0;
    this.lastSummaryMonoMs = nowMs;
  }
}
