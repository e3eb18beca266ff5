/**
 * @module Batching of state change events while replies stream: a fast stream changes the state on
 * every `reply.delta`, but listeners hear of it at most once per animation frame in browsers (once
 * per macrotask elsewhere), so a page does not re-render per token. Any other change notifies at
 * once and takes the pending batch with it.
 */

/** Runs `callback` once, later: the next animation frame in browsers. */
export type FrameScheduler = (callback: () => void) => void;

/** `requestAnimationFrame` when the runtime has it, else `setTimeout(…, 0)`. */
export function defaultFrameScheduler(): FrameScheduler {
  const raf = (globalThis as { requestAnimationFrame?: (callback: () => void) => unknown })
    .requestAnimationFrame;
  if (typeof raf === 'function') return (callback) => void raf(callback);
  return (callback) => void globalThis.setTimeout(callback, 0);
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
