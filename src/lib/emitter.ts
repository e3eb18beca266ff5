/**
 * @module The one listener list of the daemon: a typed event emitter. `on` returns the function
 * that removes the listener; `emit` calls the listeners of one event in the order they were added,
 * over a copy, so a listener may unsubscribe itself while it runs.
 */

/** Removes the listener it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * Listeners by event name; `Events` maps each name to its argument list, e.g.
 * `Emitter<{ change: [config: Config, changed: string[]] }>`.
 */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly lists = new Map<keyof Events, Set<Listener<never>>>();

  /**
   * @param onError Called when a listener throws; the other listeners still run. Without it the
   *   error propagates out of `emit` (for listeners that must not throw). It gets the event's
   *   arguments too, to say what was being delivered.
   */
  constructor(
    private readonly onError?: (
      error: unknown,
      event: keyof Events,
      args: Events[keyof Events],
    ) => void,
  ) {}

  /** Adds `listener` for `event`. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    let list = this.lists.get(event);
    if (!list) {
      list = new Set();
      this.lists.set(event, list);
    }
    list.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Removes `listener` from `event` (nothing when it was not added). */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.lists.get(event)?.delete(listener as Listener<never>);
  }

  /** Calls every listener of `event` with `args`. */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.lists.get(event);
    if (!list) return;
    for (const listener of [...list] as Array<Listener<Events[K]>>) {
      if (!this.onError) {
        listener(...args);
        continue;
      }
      try {
        listener(...args);
      } catch (error) {
        this.onError(error, event, args);
      }
    }
  }

  /** How many listeners `event` has now. */
  count(event: keyof Events): number {
    return this.lists.get(event)?.size ?? 0;
  }

  /** Removes every listener of every event. */
  clear(): void {
    this.lists.clear();
  }
}
