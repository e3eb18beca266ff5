/**
 * @module Fan-out of pushed events to every socket of a user, wherever it is connected. This is the
 * narrow, asynchronous seam docs/design.md#operations asks for: one process uses {@link
 * InProcessFanout}; cluster mode adds a PostgreSQL LISTEN/NOTIFY adapter with the same interface.
 */
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import type { PushFrame } from './protocol.ts';

/**
 * Receives every published frame; must not throw (a throw is logged and swallowed). `origin` is
 * the connection id of the socket whose write produced the event: it got an `ack` instead.
 */
export type FanoutListener = (userId: string, frame: PushFrame, origin?: string) => void;

/**
 * Carries pushed events to listeners (each instance's hub).
 *
 * Contract for publishers: publish a frame only after the write that gave it its `seq` is
 * committed, and per user in increasing `seq` order; the hub drops a frame whose `seq` is not
 * above the last one the socket got (docs/design.md#snapshot-before-stream).
 */
export interface Fanout {
  /**
   * Delivers `frame` to every listener; resolves once it is handed over (not once sent). `origin`
   * names the connection that must not get the frame (it was acked).
   */
  publish(userId: string, frame: PushFrame, origin?: string): Promise<void>;
  /** Adds a listener; the returned function removes it. */
  subscribe(listener: FanoutListener): () => void;
  /** Stops delivery and releases resources (a database connection in cluster mode). */
  close(): Promise<void>;
}

/**
 * Single-process fan-out: listeners run synchronously inside `publish`, in subscription order,
 * so frames reach the hub in the order they were published.
 */
export class InProcessFanout implements Fanout {
  private readonly events: Emitter<{ push: Parameters<FanoutListener> }>;
  private closed = false;

  constructor(logger: Logger = silentLogger) {
    // One broken listener must not stop delivery to the others, nor fail the write that already
    // committed.
    this.events = new Emitter((error, _event, [, frame]) =>
      logger.error('fan-out listener failed', { error, type: frame.type }),
    );
  }

  /** {@inheritDoc Fanout.publish} */
  publish(userId: string, frame: PushFrame, origin?: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.events.emit('push', userId, frame, origin);
    return Promise.resolve();
  }

  /** {@inheritDoc Fanout.subscribe} */
  subscribe(listener: FanoutListener): Unsubscribe {
    return this.events.on('push', listener);
  }

  /** {@inheritDoc Fanout.close} */
  close(): Promise<void> {
    this.closed = true;
    this.events.clear();
    return Promise.resolve();
  }

  /** Listeners subscribed now. */
  get listenerCount(): number {
    return this.events.count('push');
  }
}
