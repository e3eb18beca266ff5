/**
 * @module Fan-out across instances (cluster mode, docs/design.md#operations), behind the same
 * {@link Fanout} interface as the single-process one. Local writes are delivered in-process at
 * once; writes of other instances arrive as notices (user id + seq, from PostgreSQL LISTEN/NOTIFY
 * today, a broker tomorrow) and are read back from the history, so content never rides the
 * notification.
 *
 * Per user with local sockets, a cursor holds the highest seq handed to the hub. Frames reach the
 * hub in seq order with no gap: a frame that does not follow the cursor, or a notice above it,
 * makes the fan-out read `eventsSince(cursor)` and deliver everything in between. After a lost
 * notification stream ({@link ClusterFanout.resync}) every local user is caught up the same way,
 * so a lost notification never becomes a lost push. The hub drops what a socket already has.
 */
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import type { HistoryStore, Snapshot, SnapshotOptions, Store } from '../storage/store.ts';
import type { Fanout, FanoutListener } from './fanout.ts';
import type { PushFrame } from './protocol.ts';
import { toPushFrame } from './push.ts';

/**
 * The most events one catch-up reads. `eventsSince` answers `gone` beyond it, as it does when the
 * history was trimmed past the cursor; the user's sockets are then closed to resume by themselves.
 */
const READ_LIMIT = 10_000;

/** What {@link ClusterFanout} needs. */
interface ClusterFanoutOptions {
  history: Pick<HistoryStore, 'eventsSince'>;
  /** Whether `userId` has a socket on this instance. */
  hasLocal(userId: string): boolean;
  /**
   * The history can no longer fill the gap of `userId`'s sockets (trimmed, or over the read
   * limit): close them so each resumes (`since`) or rehydrates on its own.
   */
  onLost?(userId: string): void;
  logger?: Logger;
}

interface UserState {
  /** Highest seq handed to the hub for this user. */
  cursor: number;
  /** A catch-up read is running; `again` asks it to read once more when done. */
  running: boolean;
  again: boolean;
  /** Connection ids that wrote (and were acked) a local event, by seq, until it is delivered. */
  origins: Map<number, string>;
}

/** A {@link Fanout} that keeps local delivery in-process and catches up from the history. */
export class ClusterFanout implements Fanout {
  private readonly events: Emitter<{ push: Parameters<FanoutListener> }>;
  private readonly users = new Map<string, UserState>();
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly deps: ClusterFanoutOptions) {
    this.logger = deps.logger ?? silentLogger;
    this.events = new Emitter((error, _event, [, frame]) =>
      this.logger.error('fan-out listener failed', { error, type: frame.type }),
    );
  }

  /** {@inheritDoc Fanout.publish} A local, committed event. */
  publish(userId: string, frame: PushFrame, origin?: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const user = this.users.get(userId);
    if (user === undefined) {
      if (this.deps.hasLocal(userId)) this.users.set(userId, newState(frame.seq));
      this.emit(userId, frame, origin);
      return Promise.resolve();
    }
    if (frame.seq <= user.cursor) return Promise.resolve();
    if (frame.seq === user.cursor + 1 && !user.running) {
      user.cursor = frame.seq;
      this.emit(userId, frame, origin);
      return Promise.resolve();
    }
    // A gap (another instance's event not seen yet) or a read in progress: go through the history.
    if (origin !== undefined) user.origins.set(frame.seq, origin);
    return this.catchUp(userId, user);
  }

  /** {@inheritDoc Fanout.subscribe} */
  subscribe(listener: FanoutListener): Unsubscribe {
    return this.events.on('push', listener);
  }

  /** {@inheritDoc Fanout.close} */
  close(): Promise<void> {
    this.closed = true;
    this.events.clear();
    this.users.clear();
    return Promise.resolve();
  }

  /** Another instance committed event `seq` of `userId`. */
  notice(userId: string, seq: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.deps.hasLocal(userId)) {
      this.users.delete(userId);
      return Promise.resolve();
    }
    let user = this.users.get(userId);
    if (user === undefined) {
      // Notices arrive in commit order, which is seq order per user: nothing below is pending.
      user = newState(seq - 1);
      this.users.set(userId, user);
    }
    if (seq <= user.cursor) return Promise.resolve();
    return this.catchUp(userId, user);
  }

  /** Notices may have been lost (the listening connection dropped): catch every local user up. */
  async resync(): Promise<void> {
    this.prune();
    await Promise.all([...this.users].map(([userId, user]) => this.catchUp(userId, user)));
  }

  /**
   * A socket of `userId` read a snapshot covering events up to `seq`: the baseline for a user
   * seen for the first time (later events all arrive as frames or notices).
   */
  observeSnapshot(userId: string, seq: number): void {
    if (!this.closed && !this.users.has(userId) && this.deps.hasLocal(userId))
      this.users.set(userId, newState(seq));
  }

  /** Forgets users with no local socket any more. */
  prune(): void {
    for (const userId of [...this.users.keys()]) {
      if (!this.deps.hasLocal(userId)) this.users.delete(userId);
    }
  }

  private async catchUp(userId: string, user: UserState): Promise<void> {
    if (user.running) {
      user.again = true;
      return;
    }
    user.running = true;
    try {
      do {
        user.again = false;
        await this.readOnce(userId, user);
      } while (user.again && !this.closed);
    } catch (error) {
      // The store is unavailable: the next notice, local frame or resync reads again.
      this.logger.warn('cluster fan-out could not read the history', { error, user_id: userId });
    } finally {
      user.running = false;
    }
  }

  private async readOnce(userId: string, user: UserState): Promise<void> {
    const result = await this.deps.history.eventsSince(userId, user.cursor, READ_LIMIT);
    if (this.closed) return;
    if (result.kind === 'gone') {
      this.logger.warn(
        'cluster fan-out cannot fill the gap from the history; closing the sockets',
        {
          user_id: userId,
          cursor: user.cursor,
        },
      );
      this.users.delete(userId);
      this.deps.onLost?.(userId);
      return;
    }
    for (const event of result.events) {
      if (event.seq <= user.cursor) continue;
      user.cursor = event.seq;
      const frame = toPushFrame(event.type, event.seq, event.payload);
      const origin = user.origins.get(event.seq);
      user.origins.delete(event.seq);
      if (frame === undefined) continue;
      this.emit(userId, frame, origin);
    }
    for (const seq of user.origins.keys()) if (seq <= user.cursor) user.origins.delete(seq);
  }

  private emit(userId: string, frame: PushFrame, origin: string | undefined): void {
    this.events.emit('push', userId, frame, origin);
  }
}

function newState(cursor: number): UserState {
  return { cursor, running: false, again: false, origins: new Map() };
}

/**
 * The store the realtime layer reads snapshots through, reporting each snapshot's seq to the
 * fan-out (the baseline of a newly connected user). Every other call goes straight through.
 */
export function observingSnapshots(store: Store, fanout: ClusterFanout): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'readSnapshot') {
        return async (
          userId: string,
          threadIds: string[],
          recent: number,
          options?: SnapshotOptions,
        ): Promise<Snapshot> => {
          const snapshot = await target.readSnapshot(userId, threadIds, recent, options);
          fanout.observeSnapshot(userId, snapshot.seq);
          return snapshot;
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
