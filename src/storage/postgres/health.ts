/**
 * @module Storage health of the PostgreSQL adapter (docs/design.md#storage-failure). A
 * connection-class failure marks storage not ok; the next committed write marks it ok again. Unlike
 * SQLite, a PostgreSQL outage may see no writes for a while, so while not ok a probe (a rolled-back
 * write) runs every `probeIntervalMs` and clears the flag by itself once the server takes writes
 * again.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { StorageFailure } from '../errors.ts';
import type { StorageHealth } from '../store.ts';

/** How often an unhealthy store probes the server, by default. */
export const DEFAULT_PROBE_INTERVAL_MS = 1000;

/** Tracks the last failure and runs the recovery probe while there is one. */
export class PgHealth {
  private failure: StorageFailure | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly probe: () => Promise<StorageHealth>,
    private readonly probeIntervalMs: number,
  ) {}

  /** ok, or not ok with the reason of the last failure. */
  current(): StorageHealth {
    return this.failure === null ? { ok: true } : { ok: false, reason: this.failure.reason };
  }

  /** Records a storage failure and starts probing. */
  failed(failure: StorageFailure): void {
    if (this.failure === null) {
      this.log.error('PostgreSQL storage failed; writes are refused until it answers', {
        reason: failure.reason,
      });
    }
    this.failure = failure;
    this.schedule();
  }

  /** Records a committed write (or a successful probe). */
  succeeded(): void {
    if (this.failure === null) return;
    this.log.info('PostgreSQL storage takes writes again', { after: this.failure.reason });
    this.failure = null;
  }

  /** Stops probing for good (store closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => void this.runProbe(), this.probeIntervalMs);
    this.timer.unref?.();
  }

  private async runProbe(): Promise<void> {
    let outcome: StorageHealth;
    try {
      outcome = await this.probe();
    } catch (error) {
      outcome = { ok: false, reason: describeError(error) };
    }
    this.timer = null;
    if (outcome.ok) this.succeeded();
    else if (this.failure !== null) this.schedule();
  }
}
