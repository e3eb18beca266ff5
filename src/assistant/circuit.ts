/**
 * @module The assistant's circuit: a second instance of the breaker (src/breaker), persisted in
 * the same table as memory's under the name `assistant`, so an assistant that is down stays known
 * to be down across a restart (docs/assistant.md "Outages"). While it is open no request leaves and
 * waiting turns use up no attempts; the runner asks it for a permit before each attempt.
 */
import { CircuitBreaker, NO_PERMIT } from '../breaker/breaker.ts';
import type { BreakerSettings } from '../breaker/options.ts';
import { type BreakerSnapshot, checkBreakerSnapshot } from '../breaker/state.ts';
import type { Clock } from '../lib/clock.ts';
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { AssistantStatus } from '../realtime/reply-protocol.ts';
import type { BreakerStateStore } from '../storage/store.ts';

/** The row name of the assistant's persisted circuit. */
const ASSISTANT_CIRCUIT = 'assistant';

/** Options of {@link AssistantCircuit.open}. */
export interface AssistantCircuitOptions {
  store: BreakerStateStore;
  settings: Omit<BreakerSettings, 'jitterRatio'>;
  clock: Clock;
  logger: Logger;
  /** The breaker families, labelled `backend="assistant"`. */
  metrics?: Pick<Metrics, 'breakerState' | 'breakerTransitions'>;
}

const STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** A permit to call the assistant; settle it exactly once. */
export interface CircuitPermit {
  succeeded(): void;
  failed(error: string, retryAfterMs?: number): void;
}

/** The permit of a source that has no circuit (the demo). */
export const NO_CIRCUIT: CircuitPermit = { succeeded: () => {}, failed: () => {} };

/** The breaker around the assistant, persisted on every transition. */
export class AssistantCircuit {
  private readonly events = new Emitter<{ status: [AssistantStatus] }>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly breaker: CircuitBreaker,
    private readonly options: AssistantCircuitOptions,
  ) {
    options.metrics?.breakerState.set({ backend: ASSISTANT_CIRCUIT }, STATE_VALUE[breaker.state]);
    breaker.onTransition((event) => {
      options.metrics?.breakerState.set({ backend: ASSISTANT_CIRCUIT }, STATE_VALUE[event.to]);
      options.metrics?.breakerTransitions.inc({ backend: ASSISTANT_CIRCUIT, to: event.to });
      options.logger.warn('assistant circuit', {
        from: event.from,
        to: event.to,
        reason: event.reason,
        error: event.error,
      });
      const snapshot = breaker.snapshot();
      this.saving = this.saving
        .then(() => options.store.saveBreakerState(ASSISTANT_CIRCUIT, snapshot))
        .catch((error: unknown) =>
          options.logger.error('could not persist the assistant circuit', {
            error: describeError(error),
          }),
        );
      if ((event.from === 'closed') !== (event.to === 'closed'))
        this.events.emit('status', this.status());
    });
  }

  /** Loads the persisted state (a bad or unreadable row starts closed, with a warning). */
  static async open(options: AssistantCircuitOptions): Promise<AssistantCircuit> {
    let initial: BreakerSnapshot | undefined;
    try {
      const stored = await options.store.loadBreakerState(ASSISTANT_CIRCUIT);
      const problems = stored === null ? [] : checkBreakerSnapshot(stored);
      if (problems.length > 0)
        options.logger.warn('persisted assistant circuit ignored', { problems });
      else if (stored !== null) initial = stored as BreakerSnapshot;
    } catch (error) {
      options.logger.warn('persisted assistant circuit unreadable; starting closed', {
        error: describeError(error),
      });
    }
    const breaker = new CircuitBreaker({ ...options.settings, clock: options.clock, initial });
    return new AssistantCircuit(breaker, options);
  }

  /** `ok` while closed, else `unavailable`. */
  status(): AssistantStatus {
    return this.breaker.state === 'closed' ? 'ok' : 'unavailable';
  }

  /** The breaker's state name (for metrics and the status page). */
  get state(): string {
    return this.breaker.state;
  }

  /** Called on each change between `ok` and `unavailable`. */
  onStatusChange(listener: (status: AssistantStatus) => void): Unsubscribe {
    return this.events.on('status', listener);
  }

  /** A permit, or null while the circuit refuses calls (see {@link waitMs}). */
  acquire(): CircuitPermit | null {
    const permit = this.breaker.tryAcquire();
    if (permit === NO_PERMIT) return null;
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.breaker.recordSuccess(permit);
      },
      failed: (error, retryAfterMs) => {
        if (settled) return;
        settled = true;
        this.breaker.recordFailure(
          permit,
          retryAfterMs === undefined ? { error } : { error, retryAfterMs },
        );
      },
    };
  }

  /** How long to wait before asking for a permit again (the next probe time; at least 50 ms). */
  waitMs(): number {
    const at = this.breaker.retryAtMonoMs;
    return Math.max(50, at === null ? 250 : at - this.options.clock.monoMs());
  }

  /** Applies new settings (runtime config); invalid ones throw and change nothing. */
  update(settings: Partial<BreakerSettings>): void {
    this.breaker.updateOptions(settings);
  }

  /** Waits for the last persist. */
  async flush(): Promise<void> {
    await this.saving;
  }
}
