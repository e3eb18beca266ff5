/**
 * @module Batching of state change events while replies stream: a fast stream changes the state on
 * every `reply.delta`, but listeners hear of it at most once per animation frame in browsers, so a
 * page does not re-render per token. Elsewhere (a server, a test, a CLI) nothing renders: the
 * changes of one task are announced together at its end (a microtask), with no timer and no wait. Any other change notifies at
 * once and takes the pending batch with it.
 */

/** Runs `callback` once, later: the next animation frame in browsers. */
export type FrameScheduler = (callback: () => void) => void;

/**
 * `requestAnimationFrame` when the runtime has it, else the end of the current task
 * (`queueMicrotask`): a `setTimeout(…, 0)` there cost a timer per delta and waited behind every
 * other socket's I/O, and merged nothing at normal rates (docs/benchmarks.md, client streaming).
 */
export function defaultFrameScheduler(): FrameScheduler {
  const raf = (globalThis as { requestAnimationFrame?: (callback: () => void) => unknown })
    .requestAnimationFrame;
  if (typeof raf === 'function') return (callback) => void raf(callback);
  return (callback) => queueMicrotask(callback);
}

/** One pending notification at most; {@link ChangeBatch.cancel} drops it. */
export class ChangeBatch {
  private generation = 0;
  private pending = false;

  constructor(
    private readonly schedule: FrameScheduler,
    private readonly flush: () => void,
  ) {}

  /** Asks for one notification on the next frame (a second request before then adds nothing). */
  request(): void {
    if (this.pending) return;
    this.pending = true;
    const generation = this.generation;
    this.schedule(() => {
      if (generation !== this.generation) return;
      this.pending = false;
      this.flush();
    });
  }

  /** Drops the pending notification (the caller has just notified). */
  cancel(): void {
    if (!this.pending) return;
    this.pending = false;
    this.generation++;
  }
}
