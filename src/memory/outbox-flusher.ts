/**
 * @module Background delivery of the durable outbox (docs/design.md#outbox, #wrong-api-version,
 * #drain-after-recovery).
 *
 * Each round claims the oldest pending batch of up to `maxInFlight` threads (one batch in flight
 * per thread, so order per thread holds) and hands each to the backend through the {@link
 * CallGate}. While the circuit is open nothing is claimed and the next round is timed for the
 * probe; the first batch after the cooldown is the half-open probe. After any failure the flusher
 * sends one batch at a time until a success, so a dead backend sees at most `failure_threshold`
 * requests before the circuit opens, however large the backlog (docs/faults.md#m4, #m7). Failures
 * never trigger an immediate retry: the next round waits `flushIntervalMs`, so instant failures
 * cannot become a busy loop.
 */
import type { Clock } from '../lib/clock.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { OutboxBatch, OutboxMessage, OutboxStats, OutboxStore } from '../storage/store.ts';
import type { CallGate, GateResult } from './call-gate.ts';
import type { MemoryBackend, MemoryMessage } from './client.ts';

/** The tunable part (outbox.*), live-updatable. */
export interface OutboxSettings {
  batchSize: number;
  flushIntervalMs: number;
  maxInFlight: number;
}

/** Options for {@link OutboxFlusher}. */
interface OutboxFlusherOptions extends OutboxSettings {
  store: OutboxStore;
  backend: MemoryBackend;
  gate: CallGate;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Least time between two outbox-depth refreshes (a COUNT over the log); default 1000 ms. */
  statsIntervalMs?: number;
}

/** What one round did, once all its deliveries settled. */
interface FlushReport {
  /** Batches handed to the backend (including skipped ones). */
  batches: number;
  delivered: number;
  failed: number;
  dead: number;
  /** Batches the circuit refused (it opened meanwhile, or another call holds the probe slot). */
  skipped: number;
  /** An idle health probe was sent because the circuit was due and nothing was pending. */
  probed: boolean;
}

/** What {@link OutboxFlusher.drain} left behind. */
export interface DrainReport {
  delivered: number;
  pending: number;
  reason: 'empty' | 'circuit_open' | 'deadline' | 'stalled';
}

/** memory.timeout_ms's default, for backends that do not say (leases only). */
const DEFAULT_TIMEOUT_MS = 2000;
/** Lease room beyond two request timeouts. */
const LEASE_MARGIN_MS = 2000;

const emptyReport = (): FlushReport => ({
  batches: 0,
  delivered: 0,
  failed: 0,
  dead: 0,
  skipped: 0,
  probed: false,
});

function toMemoryMessage(m: OutboxMessage): MemoryMessage {
  return m.metadata === null
    ? { uuid: m.id, role: m.role, content: m.content }
    : { uuid: m.id, role: m.role, content: m.content, metadata: m.metadata };
}

/** Delivers committed messages to the memory backend in the background. */
export class OutboxFlusher {
  private settings: OutboxSettings;
  private readonly o: OutboxFlusherOptions;
  private readonly inFlight = new Map<string, Promise<FlushReport>>();
  private roundLock: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private stopped = false;
  private ticking = false;
  private proven = false;
  private again = false;
  private lastStatsMonoMs = Number.NEGATIVE_INFINITY;

  constructor(options: OutboxFlusherOptions) {
    this.o = options;
    this.settings = {
      batchSize: options.batchSize,
      flushIntervalMs: options.flushIntervalMs,
      maxInFlight: options.maxInFlight,
    };
  }

  /** Starts the background loop (first round at once). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Runs a round soon: called after each accepted message so delivery need not wait the interval. */
  wake(): void {
    if (!this.started || this.stopped) return;
    // After a failure or while open, the timer already waits for the right moment.
    if (!this.o.gate.steady() || this.o.gate.blockedUntilMonoMs() !== null) return;
    if (this.ticking) this.again = true;
    else this.schedule(0);
  }

  /** Applies new outbox settings from the next round on. */
  updateSettings(partial: Partial<OutboxSettings>): void {
    this.settings = { ...this.settings, ...partial };
  }

  /** Batches in flight right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Runs one round and waits for every delivery it started; for tests and for drain. */
  async flushOnce(): Promise<FlushReport> {
    const started = await this.lockedRound();
    const reports = await Promise.all(started);
    return reports.reduce(addReports, emptyReport());
  }

  /**
   * Delivers as much as possible within `timeoutMs` (graceful shutdown), stopping early when the
   * outbox is empty or the circuit is open. Whatever is left stays pending for the next process.
   */
  async drain(timeoutMs: number): Promise<DrainReport> {
    const deadlineMs = this.o.clock.monoMs() + timeoutMs;
    let delivered = 0;
    let reason: DrainReport['reason'] = 'deadline';
    while (this.o.clock.monoMs() < deadlineMs) {
      if (this.o.gate.blockedUntilMonoMs() !== null) {
        reason = 'circuit_open';
        break;
      }
      const round = await withDeadline(this.flushOnce(), deadlineMs - this.o.clock.monoMs());
      if (round === null) break;
      delivered += round.delivered;
      if (round.batches === 0 && this.inFlight.size === 0) {
        reason = 'empty';
        break;
      }
      if (round.batches === 0) {
        // Batches the background loop started hold every slot: wait for one to settle, then go
        // on, instead of calling a slow but live service stalled.
        const inFlight = Promise.race(this.inFlight.values());
        if ((await withDeadline(inFlight, deadlineMs - this.o.clock.monoMs())) === null) break;
        continue;
      }
      if (round.delivered === 0 && round.dead === 0) {
        reason = 'stalled';
        break;
      }
    }
    const stats = await this.refreshStats(true);
    return { delivered, pending: stats?.pending ?? -1, reason };
  }

  /** Stops the loop and waits for the batches in flight (each bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, Math.ceil(delayMs)));
  }

  private async tick(): Promise<void> {
    this.timer = null;
    this.ticking = true;
    this.again = false;
    let nextMs = this.settings.flushIntervalMs;
    try {
      const started = await this.lockedRound();
      const blocked = this.o.gate.blockedUntilMonoMs();
      if (blocked !== null) nextMs = Math.max(1, blocked - this.o.clock.monoMs());
      nextMs = Math.max(nextMs, this.writePauseMs());
      for (const delivery of started) {
        void delivery.then((report) => {
          if (report.delivered > 0 || report.dead > 0) this.wake();
        });
      }
    } catch (error) {
      this.o.logger.error('outbox round failed', { error: describeError(error) });
    }
    this.ticking = false;
    this.schedule(this.again ? 0 : nextMs);
  }

  /** Rounds never overlap: a round's claim must see the previous round's in-flight threads. */
  private lockedRound(): Promise<Array<Promise<FlushReport>>> {
    const result = this.roundLock.then(() => this.round());
    this.roundLock = result.catch(() => {});
    return result;
  }

  /** Claims and starts batches; resolves once they are started, with one promise per batch. */
  private async round(): Promise<Array<Promise<FlushReport>>> {
    if (this.stopped) return [];
    await this.refreshStats(false);
    if (this.o.gate.blockedUntilMonoMs() !== null) return [];
    // The service's rate limit is nearly spent: hold writes, keep the rest for reads.
    if (this.writePauseMs() > 0) return [];
    // Slow start: one batch at a time until this process has seen the backend answer.
    const cautious = !this.proven || !this.o.gate.steady();
    const limit = cautious ? 1 : this.settings.maxInFlight;
    const slots = limit - this.inFlight.size;
    if (slots <= 0) return [];
    const batches = await this.o.store.claimBatch({
      maxThreads: slots,
      batchSize: Math.min(this.settings.batchSize, this.o.backend.maxBatchMessages),
      excludeThreads: this.inFlight.keys(),
      leaseMs: this.leaseMs(),
    });
    if (batches.length === 0)
      return this.o.gate.closed || this.inFlight.size > 0 ? [] : [this.idleProbe()];
    return batches.map((batch) => this.track(batch));
  }

  private writePauseMs(): number {
    return this.o.backend.writePauseMs?.() ?? 0;
  }

  /**
   * How long a claimed thread stays leased to this instance (cluster mode): one request plus
   * its bookkeeping, with room for a slow database and clock skew between instances. Each settle
   * of a one-by-one retry extends it.
   */
  private leaseMs(): number {
    return 2 * (this.o.backend.timeoutMs ?? DEFAULT_TIMEOUT_MS) + LEASE_MARGIN_MS;
  }

  private track(batch: OutboxBatch): Promise<FlushReport> {
    const delivery = this.deliver(batch).finally(() => this.inFlight.delete(batch.threadId));
    this.inFlight.set(batch.threadId, delivery);
    return delivery;
  }

  /** An open circuit whose cooldown passed, with nothing to send: probe with a cheap call. */
  private async idleProbe(): Promise<FlushReport> {
    const result = await this.o.gate.run('health', () => this.o.backend.health());
    if (result.kind === 'answer') this.proven = true;
    return { ...emptyReport(), probed: result.kind !== 'skipped' };
  }

  private async deliver(batch: OutboxBatch): Promise<FlushReport> {
    const report = emptyReport();
    report.batches = 1;
    const messages = batch.messages;
    const userId = messages[0]?.userId ?? '';
    const result = await this.send(batch.threadId, userId, messages);
    try {
      if (result.kind === 'rejected' && messages.length > 1) {
        // One bad message must not take its batch-mates down: retry them one by one.
        return await this.isolate(batch.threadId, userId, messages, report);
      }
      await this.settle(messages, result, report, false);
    } catch (error) {
      // A storage error here leaves the messages pending; redelivery is deduplicated by UUID.
      this.o.logger.error('outbox bookkeeping failed', { error: describeError(error) });
    }
    return report;
  }

  private send(
    threadId: string,
    userId: string,
    messages: OutboxMessage[],
  ): Promise<GateResult<void>> {
    return this.o.gate.run('add', () =>
      this.o.backend.addMessages(threadId, userId, messages.map(toMemoryMessage)),
    );
  }

  private async isolate(
    threadId: string,
    userId: string,
    messages: OutboxMessage[],
    report: FlushReport,
  ) {
    for (const [i, message] of messages.entries()) {
      const result = await this.send(threadId, userId, [message]);
      const goOn = result.kind === 'answer' || result.kind === 'rejected';
      await this.settle([message], result, report, goOn && i < messages.length - 1);
      if (!goOn) break;
    }
    return report;
  }

  /** Records the outcome; `keepLease` holds the thread for the rest of a one-by-one retry. */
  private async settle(
    messages: OutboxMessage[],
    result: GateResult<void>,
    report: FlushReport,
    keepLease: boolean,
  ): Promise<void> {
    const ids = messages.map((m) => m.id);
    const lease = keepLease ? { keepLeaseMs: this.leaseMs() } : undefined;
    switch (result.kind) {
      case 'answer':
        this.proven = true;
        await this.o.store.markDelivered(ids, lease);
        report.delivered += ids.length;
        this.o.metrics?.outboxDelivered.inc(ids.length);
        return;
      case 'skipped':
        report.skipped++;
        // Not sent: let another instance have the thread rather than wait out the lease.
        if (messages[0] !== undefined) await this.o.store.releaseLeases?.([messages[0].threadId]);
        return;
      case 'rejected':
        await this.o.store.markDead(ids, result.reason, lease);
        report.dead += ids.length;
        this.o.logger.warn('memory service rejected a message; moved to dead letters', {
          backend: this.o.backend.name,
          ids,
          status: result.status,
          reason: result.reason,
        });
        return;
      case 'failure':
      case 'misconfigured':
        await this.o.store.recordAttemptFailure(ids, result.detail, lease);
        report.failed += ids.length;
        return;
    }
  }

  /** Refreshes the depth and dead-letter gauges, at most once per stats interval unless forced. */
  private async refreshStats(force: boolean): Promise<OutboxStats | null> {
    const nowMs = this.o.clock.monoMs();
    if (!force && nowMs - this.lastStatsMonoMs < (this.o.statsIntervalMs ?? 1000)) return null;
    this.lastStatsMonoMs = nowMs;
    try {
      const stats = await this.o.store.outboxStats();
      this.o.metrics?.outboxDepth.set(stats.pending);
      this.o.metrics?.outboxDead.set(stats.dead);
      return stats;
    } catch (error) {
      this.o.logger.warn('outbox stats unavailable', { error: describeError(error) });
      return null;
    }
  }
}

function addReports(a: FlushReport, b: FlushReport): FlushReport {
  return {
    batches: a.batches + b.batches,
    delivered: a.delivered + b.delivered,
    failed: a.failed + b.failed,
    dead: a.dead + b.dead,
    skipped: a.skipped + b.skipped,
    probed: a.probed || b.probed,
  };
}

/** Resolves with the promise's value, or null once `ms` have passed. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
