/**
 * @module MemoryService: what the rest of the daemon uses (docs/design.md#memory). Writes are
 * guarded, committed to SQLite and acknowledged without ever waiting on the memory backend; a
 * background {@link OutboxFlusher} delivers them. Reads go through the breaker and answer `[]` with
 * `degraded: true` at once while the circuit is open (WRITE_ONLY). Every breaker transition is
 * persisted, logged once and counted, and a new process resumes from the persisted state.
 */
import { CircuitBreaker } from '../breaker/breaker.ts';
import type { BreakerSettings } from '../breaker/options.ts';
import {
  type BreakerSnapshot,
  type BreakerTransition,
  checkBreakerSnapshot,
} from '../breaker/state.ts';
import { type Clock, systemClock } from '../lib/clock.ts';
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import { describeError } from '../lib/errors.ts';
import { isUuid, isValidId } from '../lib/ids.ts';
import { type Logger, silentLogger } from '../lib/log.ts';
import { isBlank } from '../lib/text.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { AppendResult, NewMessage, Store } from '../storage/store.ts';
import { CallGate } from './call-gate.ts';
import type { MemoryBackend, MemoryHit, MemoryRecord } from './client.ts';
import { ClusterBreaker } from './cluster-breaker.ts';
import { checkContent, DEFAULT_MAX_CONTENT_BYTES, type GuardCode } from './guards.ts';
import { type DrainReport, OutboxFlusher, type OutboxSettings } from './outbox-flusher.ts';
import type { MemoryStatus } from './status.ts';
import { logTransition } from './transition-log.ts';

/** Outcome of {@link MemoryService.submit}. */
type SubmitResult = AppendResult | { kind: 'rejected'; code: GuardCode; message: string };

/** Breaker options in ms; `jitterRatio` and `probeTimeoutMs` are optional. */
export type BreakerOptionsMs = Omit<BreakerSettings, 'jitterRatio' | 'probeTimeoutMs'> &
  Partial<Pick<BreakerSettings, 'jitterRatio' | 'probeTimeoutMs'>>;

/** The store methods the service and its flusher use. */
type MemoryServiceStore = Pick<
  Store,
  | 'appendMessage'
  | 'loadBreakerState'
  | 'saveBreakerState'
  | 'claimBatch'
  | 'markDelivered'
  | 'recordAttemptFailure'
  | 'markDead'
  | 'releaseLeases'
  | 'outboxStats'
  | 'deadLetters'
  | 'sharedBreaker'
>;

/** Options for {@link MemoryService.create}. */
interface MemoryServiceOptions {
  store: MemoryServiceStore;
  backend: MemoryBackend;
  breaker: BreakerOptionsMs;
  outbox: OutboxSettings;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Uniform draws in [0, 1) for cooldown jitter. */
  random?: () => number;
  /** Content cap in UTF-8 bytes (default 32 KiB, the WebSocket content limit). */
  maxContentBytes?: number;
  /** Cluster mode: how often the shared breaker row is read (default 1 s). */
  breakerPollMs?: number;
}

/** Settings that may change at run time (runtime config overrides). */
export interface MemorySettingsUpdate {
  breaker?: Partial<BreakerSettings>;
  outbox?: Partial<OutboxSettings>;
  timeoutMs?: number;
}

/** The circuit as status pages show it. */
interface CircuitInfo {
  backend: string;
  status: MemoryStatus;
  snapshot: BreakerSnapshot;
}

type StatusListener = (status: MemoryStatus, transition: BreakerTransition) => void;

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** The memory layer's facade; build it with {@link MemoryService.create}. */
export class MemoryService {
  readonly backend: MemoryBackend;
  readonly flusher: OutboxFlusher;
  private readonly breaker: CircuitBreaker;
  private readonly gate: CallGate;
  private readonly store: MemoryServiceStore;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly clock: Clock;
  private readonly events: Emitter<{ status: Parameters<StatusListener> }>;
  /** Cluster mode (a store with a shared breaker row): keeps this circuit and the row in step. */
  private readonly cluster: ClusterBreaker | null;
  private maxContentBytes: number;
  private lastStatus: MemoryStatus;
  private saving: Promise<void> = Promise.resolve();

  /** Loads the persisted breaker state, then builds the service (the flusher is not started). */
  static async create(options: MemoryServiceOptions): Promise<MemoryService> {
    const logger = (options.logger ?? silentLogger).child({
      component: 'memory',
      backend: options.backend.name,
    });
    let initial: BreakerSnapshot | undefined;
    let version = 0;
    try {
      const shared = await options.store.sharedBreaker?.readSharedBreaker(options.backend.name);
      if (shared !== undefined && shared !== null) version = shared.version;
      const stored = shared ?? (await options.store.loadBreakerState(options.backend.name));
      const problems = stored === null ? [] : checkBreakerSnapshot(stored);
      if (problems.length > 0) logger.warn('persisted circuit state ignored', { problems });
      else if (stored !== null) initial = stored as BreakerSnapshot;
    } catch (error) {
      logger.warn('persisted circuit state unreadable; starting closed', {
        error: describeError(error),
      });
    }
    return new MemoryService(options, logger, initial, version);
  }

  private constructor(
    options: MemoryServiceOptions,
    logger: Logger,
    initial: BreakerSnapshot | undefined,
    version: number,
  ) {
    this.store = options.store;
    this.backend = options.backend;
    this.logger = logger;
    this.events = new Emitter((error) =>
      logger.error('memory status listener threw', { error: describeError(error) }),
    );
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    this.breaker = new CircuitBreaker({
      ...options.breaker,
      clock: this.clock,
      random: options.random,
      initial,
    });
    const shared = options.store.sharedBreaker;
    this.cluster =
      shared === undefined
        ? null
        : new ClusterBreaker(
            {
              shared,
              backend: this.backend.name,
              breaker: this.breaker,
              logger,
              pollIntervalMs: options.breakerPollMs,
            },
            version,
          );
    const cluster = this.cluster;
    this.gate = new CallGate({
      breaker: this.breaker,
      backendName: this.backend.name,
      clock: this.clock,
      logger,
      metrics: this.metrics,
      admitProbe: cluster === null ? undefined : () => cluster.admitProbe(),
    });
    this.flusher = new OutboxFlusher({
      ...options.outbox,
      store: options.store,
      backend: this.backend,
      gate: this.gate,
      clock: this.clock,
      logger,
      metrics: this.metrics,
    });
    this.lastStatus = this.status();
    this.breaker.onTransition((event) => this.onTransition(event));
    this.metrics?.breakerState.set({ backend: this.backend.name }, STATE_VALUE[this.breaker.state]);
    if (this.breaker.state === 'open') this.logResumedOpen();
  }

  /** Guards, then commits; resolves after the commit, never waiting on the memory backend. */
  async submit(message: NewMessage): Promise<SubmitResult> {
    if (!isValidId(message.userId) || !isValidId(message.threadId)) {
      return {
        kind: 'rejected',
        code: 'bad_request',
        message: 'user and thread ids must match [A-Za-z0-9._-]{1,128}',
      };
    }
    if (!isUuid(message.id))
      return { kind: 'rejected', code: 'bad_request', message: 'message id must be a UUID' };
    const problem = checkContent(message.content, this.maxContentBytes);
    if (problem !== null) return { kind: 'rejected', ...problem };
    if (this.backend.deliversAtCommit) {
      // Nothing to deliver later: the row is stored delivered (and indexed) in one transaction,
      // which keeps the flusher's claim and mark-delivered writes off the ack path.
      const result = await this.store.appendMessage({ ...message, deliveredAtCommit: true });
      if (result.kind === 'ok' && !result.duplicate) this.metrics?.outboxDelivered.inc();
      return result;
    }
    const result = await this.store.appendMessage(message);
    if (result.kind === 'ok' && !result.duplicate) this.flusher.wake();
    return result;
  }

  /** Searches a thread's memory; `[]` with `degraded: true` at once while the circuit is open. */
  async search(
    userId: string,
    threadId: string,
    query: string,
    limit: number,
  ): Promise<{ results: MemoryHit[]; degraded: boolean }> {
    if (isBlank(query) || limit <= 0) return { results: [], degraded: false };
    const result = await this.gate.run('search', () =>
      this.backend.search(threadId, userId, query, limit),
    );
    return result.kind === 'answer'
      ? { results: result.value, degraded: false }
      : { results: [], degraded: true };
  }

  /** The backend's recent messages of a thread; `[]` with `degraded: true` while open. */
  async recent(
    threadId: string,
    limit: number,
  ): Promise<{ messages: MemoryRecord[]; degraded: boolean }> {
    const result = await this.gate.run('recent', () =>
      this.backend.recentMessages(threadId, limit),
    );
    return result.kind === 'answer'
      ? { messages: result.value, degraded: false }
      : { messages: [], degraded: true };
  }

  /**
   * The backend's prompt-ready user context for a thread (Zep v3); `null` when the backend has
   * none, and `null` with `degraded: true` while the circuit is open or the call failed.
   */
  async context(
    userId: string,
    threadId: string,
  ): Promise<{ context: string | null; degraded: boolean }> {
    const fetchContext = this.backend.context?.bind(this.backend);
    if (fetchContext === undefined) return { context: null, degraded: false };
    const result = await this.gate.run('context', () => fetchContext(userId, threadId));
    return result.kind === 'answer'
      ? { context: result.value, degraded: false }
      : { context: null, degraded: true };
  }

  /** Forgets a thread in the backend; `unavailable` when the circuit refused or the call failed. */
  async deleteThread(
    threadId: string,
  ): Promise<{ kind: 'ok' } | { kind: 'unavailable'; detail: string }> {
    const result = await this.gate.run('delete', () => this.backend.deleteThread(threadId));
    if (result.kind === 'answer') return { kind: 'ok' };
    const detail =
      result.kind === 'skipped'
        ? 'circuit open'
        : result.kind === 'rejected'
          ? result.reason
          : result.detail;
    return { kind: 'unavailable', detail };
  }

  /** `misconfigured` while open for a wrong version/URL/key, `write_only` while open otherwise. */
  status(): MemoryStatus {
    if (this.breaker.state === 'closed') return 'ok';
    return this.breaker.openReason === 'misconfigured' ? 'misconfigured' : 'write_only';
  }

  /** Subscribes to status changes (for WebSocket `memory` pushes); returns the unsubscribe. */
  onStatusChange(listener: StatusListener): Unsubscribe {
    return this.events.on('status', listener);
  }

  /** The circuit's state for status pages and the admin API. */
  circuit(): CircuitInfo {
    return { backend: this.backend.name, status: this.status(), snapshot: this.breaker.snapshot() };
  }

  /** Opens the circuit by hand (admin); `cooldownMs` defaults to breaker.cooldown. */
  openCircuit(cooldownMs?: number): void {
    this.breaker.open(cooldownMs, 'opened by operator');
  }

  /** Closes the circuit by hand (admin) and wakes the flusher. */
  closeCircuit(): void {
    this.breaker.close();
    this.flusher.wake();
  }

  /** Returns the circuit to pristine closed (admin). */
  resetCircuit(): void {
    this.breaker.reset();
    // reset() on a closed circuit emits nothing; persist the cleared state anyway.
    this.persist(this.breaker.snapshot(), null);
    this.flusher.wake();
  }

  /** Applies runtime settings; invalid breaker settings throw and change nothing. */
  updateSettings(update: MemorySettingsUpdate): void {
    if (update.breaker !== undefined) this.breaker.updateOptions(update.breaker);
    if (update.outbox !== undefined) this.flusher.updateSettings(update.outbox);
    if (update.timeoutMs !== undefined) this.backend.setTimeoutMs(update.timeoutMs);
  }

  /** Starts background delivery (and, in cluster mode, following the shared circuit). */
  start(): void {
    void this.cluster?.start();
    this.flusher.start();
  }

  /** Graceful shutdown: deliver what can be delivered within `timeoutMs`. */
  drain(timeoutMs: number): Promise<DrainReport> {
    return this.flusher.drain(timeoutMs);
  }

  /** Stops delivery and waits for in-flight batches and breaker-state writes. */
  async stop(): Promise<void> {
    await this.flusher.stop();
    await this.saving;
    await this.cluster?.stop();
  }

  /** Resolves once every transition so far is written (tests, shutdown). */
  async persisted(): Promise<void> {
    await this.saving;
    await this.cluster?.settled();
  }

  /** Cluster mode: reads the shared circuit now instead of at the next poll (a NOTIFY, tests). */
  async syncShared(): Promise<void> {
    await this.cluster?.sync();
  }

  private onTransition(event: BreakerTransition): void {
    // An adopted transition came from the shared row: writing it back would only echo it.
    const adopted = this.cluster?.adopting === true;
    if (!adopted) this.persist(this.breaker.snapshot(), event);
    this.gate.resetSummary();
    logTransition(this.logger, event, this.breaker, adopted);
    this.metrics?.breakerState.set({ backend: this.backend.name }, STATE_VALUE[event.to]);
    this.metrics?.breakerTransitions.inc({ backend: this.backend.name, to: event.to });
    const status = this.status();
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    this.events.emit('status', status, event);
    if (status === 'ok') this.flusher.wake();
  }

  /** Writes snapshots in transition order; a failed write is logged, never thrown. */
  private persist(snapshot: BreakerSnapshot, event: BreakerTransition | null): void {
    if (this.cluster !== null) {
      this.cluster.publish(event, snapshot);
      return;
    }
    this.saving = this.saving
      .then(() => this.store.saveBreakerState(this.backend.name, snapshot))
      .catch((error) =>
        this.logger.error('could not persist circuit state', { error: describeError(error) }),
      );
  }

  private logResumedOpen(): void {
    const snapshot = this.breaker.snapshot();
    const until =
      snapshot.nextProbeAtWallMs === null
        ? null
        : new Date(snapshot.nextProbeAtWallMs).toISOString();
    this.logger.warn(`circuit resumed OPEN until ${until}`, {
      reason: this.breaker.openReason,
      error: this.breaker.lastError,
    });
  }
}
