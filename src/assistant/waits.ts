/**
 * @module The runner's waits: a sleep that a turn's cancel (or the runner's stop) cuts short, and
 * the wait of a deferred turn for its upload (docs/assistant.md "Deferred replies").
 */

/** How a wait for an upload ended. */
export type UploadWait = 'done' | 'timeout' | 'aborted';

/** Waits, by turn. */
export class TurnWaits {
  private readonly uploads = new Map<string, (outcome: UploadWait) => void>();
  private readonly sleepers = new Set<() => void>();
  /** Deferred turns whose upload is being read (one at a time per turn; uploads.ts). */
  readonly uploading = new Set<string>();

  /** Resolves after `ms`, at once when `signal` aborts, or at {@link wakeAll}. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.sleepers.delete(done);
        resolve();
      };
      this.sleepers.add(done);
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Ends every sleep now (the assistant is back: waiting turns look again). */
  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Waits until {@link finish} is called for `turnId`, `ms` pass, or `signal` aborts. */
  upload(turnId: string, ms: number, signal: AbortSignal): Promise<UploadWait> {
    return new Promise((resolve) => {
      const settle = (outcome: UploadWait) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.uploads.get(turnId) === settle) this.uploads.delete(turnId);
        resolve(outcome);
      };
      const onAbort = () => settle('aborted');
      const timer = setTimeout(() => settle('timeout'), Math.max(0, ms));
      if (signal.aborted) return settle('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      this.uploads.set(turnId, settle);
    });
  }

  /** Ends the upload wait of `turnId` (its reply was uploaded and the turn ended). */
  finish(turnId: string): void {
    this.uploads.get(turnId)?.('done');
  }
}

/**
 * Attempt slots (`assistant.max_in_flight`): an attempt holds one while it streams; a turn that
 * waits (for its thread, a retry, the circuit or an upload) holds none.
 */
export class Slots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  /** Takes a slot when one of `max` is free; resolves false if `signal` aborts first. */
  async take(max: () => number, signal: AbortSignal): Promise<boolean> {
    while (this.used >= max()) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          const at = this.waiters.indexOf(wake);
          if (at >= 0) this.waiters.splice(at, 1);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    if (signal.aborted) return false;
    this.used += 1;
    return true;
  }

  /** Gives a slot back and wakes the longest waiter. */
  give(): void {
    this.used = Math.max(0, this.used - 1);
    this.waiters[0]?.();
  }
}
