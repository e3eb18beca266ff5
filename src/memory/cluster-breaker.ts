/**
 * @module One circuit for a cluster (issue 9): every instance keeps its own {@link CircuitBreaker}
 * for the hot path, mirrored onto the shared breaker row (PostgreSQL).
 *
 * - A local transition is written over the row version this instance last saw (compare-and-set).
 *   When the write loses (another instance wrote first), the row wins and is adopted locally.
 * - A new row version is announced on the `lifeline_breaker` channel (a trigger, NOTIFY at
 *   commit); the daemon's cluster runtime LISTENs and calls {@link ClusterBreaker.sync} at once,
 *   so when one instance opens, the others open within a notification's latency. The row is
 *   also read every `pollIntervalMs` (1 s) and on every probe ticket: the row is the truth and a
 *   lost notification cannot be told from a quiet second, so the poll stays as the safety net
 *   (one primary-key read per second per instance).
 * - Open → half-open stays local (not written). Before a half-open call the instance takes a
 *   probe ticket on the row; at most half_open_max_calls tickets per row version exist across
 *   all instances, so N instances never probe N times per cooldown.
 */
import type { CircuitBreaker } from '../breaker/breaker.ts';
import type { BreakerSnapshot, BreakerTransition } from '../breaker/state.ts';
import { checkBreakerSnapshot } from '../breaker/state.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { SharedBreakerState, SharedBreakerStore } from '../storage/store.ts';

/** How often each instance reads the shared row. */
const DEFAULT_BREAKER_POLL_MS = 1000;

/** Options for {@link ClusterBreaker}. */
interface ClusterBreakerOptions {
  shared: SharedBreakerStore;
  backend: string;
  breaker: CircuitBreaker;
  logger: Logger;
  pollIntervalMs?: number;
}

/** Keeps a local breaker and the shared breaker row in step. */
export class ClusterBreaker {
  private readonly o: ClusterBreakerOptions;
  /** The row version the local state corresponds to; 0 before any row exists. */
  private version = 0;
  private adoptingNow = false;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;

  /** `version`: the row version the breaker's initial state was read from. */
  constructor(options: ClusterBreakerOptions, version = 0) {
    this.o = options;
    this.version = version;
  }

  /** True while a transition is being adopted from the row (it must not be written back). */
  get adopting(): boolean {
    return this.adoptingNow;
  }

  /** Reads the row once (adopting it), then polls it. */
  async start(): Promise<void> {
    await this.sync();
    if (this.timer !== null) return;
    this.timer = setInterval(
      () => void this.sync(),
      this.o.pollIntervalMs ?? DEFAULT_BREAKER_POLL_MS,
    );
    this.timer.unref?.();
  }

  /** Stops polling and waits for queued writes. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => {});
  }

  /** Resolves once every queued write and read has settled. */
  settled(): Promise<void> {
    return this.queue.then(
      () => {},
      () => {},
    );
  }

  /** Reads the row and adopts it when its version is one this instance has not seen. */
  sync(): Promise<void> {
    return this.enqueue(async () => {
      const row = await this.o.shared.readSharedBreaker(this.o.backend);
      if (row !== null && row.version !== this.version) this.adopt(row);
    }).catch(() => {});
  }

  /**
   * Writes a local transition: an operator's action always wins; anything else only over the
   * version this instance has seen, else the row is adopted. Half-open is never written.
   */
  publish(event: BreakerTransition | null, snapshot: BreakerSnapshot): void {
    if (event?.to === 'half_open') return;
    const manual = event === null || event.reason === 'manual';
    void this.enqueue(async () => {
      const expected = manual ? null : this.version;
      const result = await this.o.shared.writeSharedBreaker(this.o.backend, snapshot, expected);
      if (result.applied) this.version = result.current.version;
      else this.adopt(result.current);
    }).catch(() => {});
  }

  /** Takes a cluster-wide probe ticket before a half-open call; false means "do not call". */
  admitProbe(): Promise<boolean> {
    return this.enqueue(async () => {
      const settings = this.o.breaker.options;
      const ticket = await this.o.shared.acquireProbeTicket(
        this.o.backend,
        this.version,
        settings.halfOpenMaxCalls,
        settings.probeTimeoutMs,
      );
      const row = ticket.current;
      if (
        !ticket.granted &&
        row !== null &&
        (row.version !== this.version || row.state === 'closed')
      )
        this.adopt(row);
      return ticket.granted;
    }).catch(() => false);
  }

  private adopt(row: SharedBreakerState): void {
    const { version, ...snapshot } = row;
    const problems = checkBreakerSnapshot(snapshot);
    this.version = version;
    if (problems.length > 0) {
      this.o.logger.warn('shared circuit state ignored', { problems, version });
      return;
    }
    this.adoptingNow = true;
    try {
      this.o.breaker.adopt(snapshot as BreakerSnapshot);
    } finally {
      this.adoptingNow = false;
    }
  }

  /** Runs `step` after the queued ones; a failure is logged (once) and leaves the version alone. */
  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch((error: unknown) => {
      this.o.logger.warn('shared circuit state unavailable', { error: describeError(error) });
    });
    return run;
  }
}
