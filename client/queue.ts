/**
 * @module The offline queue: chat messages accepted by `send()` and not yet acknowledged. Each is
 * (re)sent on every open socket with the same UUID until its `ack` arrives; the server answers a
 * resend with the same `ack` and stores nothing twice (docs/design.md#duplicate-ids). Bounded, in
 * send order.
 */
import type { MessageFrame } from '../src/realtime/protocol.ts';

/** Default number of unacknowledged messages kept. */
export const DEFAULT_QUEUE_LIMIT = 100;

/** Thrown (as a rejection of `send()`) when the queue is full. */
export class QueueFullError extends Error {
  /** Stable code, as on server errors. */
  readonly code = 'queue_full';
  constructor(limit: number) {
    super(`the offline queue is full (${limit} unacknowledged messages)`);
    this.name = 'QueueFullError';
  }
}

/** Unacknowledged messages by id, oldest first. */
export class OfflineQueue {
  private readonly frames = new Map<string, MessageFrame>();

  /** @throws RangeError for a limit below 1. */
  constructor(readonly limit: number = DEFAULT_QUEUE_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`queue limit must be an integer ≥ 1, got ${limit}`);
    }
  }

  /** Messages waiting for their `ack`. */
  get size(): number {
    return this.frames.size;
  }

  /**
   * Adds a message at the end; adding an id already queued keeps its place and the first frame.
   * @throws QueueFullError when `limit` messages are already waiting.
   */
  add(frame: MessageFrame): void {
    if (this.frames.has(frame.id)) return;
    if (this.frames.size >= this.limit) throw new QueueFullError(this.limit);
    this.frames.set(frame.id, frame);
  }

  /** True when the message is waiting. */
  has(id: string): boolean {
    return this.frames.has(id);
  }

  /** Removes a message (acked, refused, timed out or discarded); false if it was not there. */
  remove(id: string): boolean {
    return this.frames.delete(id);
  }

  /** The waiting messages, oldest first (a copy). */
  list(): MessageFrame[] {
    return [...this.frames.values()];
  }
}
