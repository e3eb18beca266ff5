/**
 * @module Assistant turns across the instances of a cluster (docs/decisions.md "Assistant turns
 * across instances"): the per-thread lease the turn runner takes before it works a thread's turns,
 * so a thread's turns run on one instance at a time and stay in order. A lease lasts
 * {@link TURN_LEASE_MS} and is renewed every {@link TURN_LEASE_RENEW_MS} while the thread is
 * worked; when an instance dies its leases lapse and another instance's poll of the open turns
 * takes the thread over (the interrupted attempt is retried, attempt + 1, same `webhook-id`).
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { StoredTurn, TurnStore } from '../storage/turns.ts';

/** How long a thread's turn lease lasts without a renewal. */
const TURN_LEASE_MS = 15_000;
/** How often a held lease is renewed (three renewals fit in one lease). */
const TURN_LEASE_RENEW_MS = 5_000;
/** How often a cluster instance looks for open turns nobody works on (a dead instance's). */
export const OPEN_TURNS_POLL_MS = 3_000;
/** The most open turns of one thread read at once. */
const MAX_THREAD_TURNS = 1000;

/** The runner's view of the lease (runner.ts `leases`). */
export interface TurnLeases {
  /**
   * Takes the lease on `threadId`'s turns; false when another instance holds it (or the store
   * could not be asked). `onLost` runs when a renewal finds the lease gone (it lapsed and another
   * instance took it over): stop working the thread at once.
   */
  acquire(threadId: string, waiting: Set<string>, onLost: () => void): Promise<boolean>;
  /**
   * Adds to `waiting` (a held thread's, as given to acquire) the thread's open turns other
   * instances accepted: the runner picks the lowest message seq among them next, so a thread's
   * turns run in order whichever instance took each message.
   */
  refresh(waiting: Set<string>): Promise<void>;
  /** Gives the lease back (the thread has nothing left to run here). */
  release(threadId: string): Promise<void>;
}

/** What {@link StoreTurnLeases} needs. */
interface StoreTurnLeasesOptions {
  store: Pick<TurnStore, 'leaseTurns' | 'releaseTurns' | 'openTurns'>;
  /** This instance (the cluster instance id). */
  holder: string;
  clock: Clock;
  logger: Logger;
  leaseMs?: number;
  renewMs?: number;
}

interface Held {
  timer: Timer;
  /** Wall time the lease runs to, as last granted. */
  untilWallMs: number;
  waiting: Set<string>;
  onLost(): void;
}

/** {@link TurnLeases} over the store's `leaseTurns` / `releaseTurns`. */
export class StoreTurnLeases implements TurnLeases {
  private readonly held = new Map<string, Held>();
  /** The thread of each held thread's waiting set. */
  private readonly threadOf = new WeakMap<Set<string>, string>();
  private readonly leaseMs: number;
  private readonly renewMs: number;

  constructor(private readonly options: StoreTurnLeasesOptions) {
    this.leaseMs = options.leaseMs ?? TURN_LEASE_MS;
    this.renewMs = options.renewMs ?? TURN_LEASE_RENEW_MS;
  }

  async acquire(threadId: string, waiting: Set<string>, onLost: () => void): Promise<boolean> {
    const { store, holder, clock } = this.options;
    const untilWallMs = clock.wallMs() + this.leaseMs;
    try {
      if (!(await store.leaseTurns(threadId, holder, untilWallMs))) return false;
    } catch (error) {
      // The store is unavailable: the poll of open turns asks again.
      this.options.logger.warn('turn lease not taken', { error, thread_id: threadId });
      return false;
    }
    this.stopRenewing(threadId);
    const timer = setInterval(() => void this.renew(threadId), this.renewMs);
    timer.unref();
    this.held.set(threadId, { timer, untilWallMs, waiting, onLost });
    this.threadOf.set(waiting, threadId);
    return true;
  }

  async refresh(waiting: Set<string>): Promise<void> {
    const threadId = this.threadOf.get(waiting);
    if (threadId === undefined || this.held.get(threadId)?.waiting !== waiting) return;
    let open: StoredTurn[];
    try {
      open = await this.options.store.openTurns(MAX_THREAD_TURNS, threadId);
    } catch (error) {
      this.options.logger.warn('open turns of a thread not read', { error, thread_id: threadId });
      return;
    }
    if (this.held.get(threadId)?.waiting !== waiting) return; // lost or released meanwhile
    for (const turn of open) waiting.add(turn.turnId);
  }

  async release(threadId: string): Promise<void> {
    this.stopRenewing(threadId);
    await this.options.store.releaseTurns(threadId, this.options.holder).catch((error: unknown) =>
      this.options.logger.warn('turn lease not released; it lapses', {
        error,
        thread_id: threadId,
      }),
    );
  }

  /** Whether this instance holds the lease on `threadId`'s turns now. */
  holds(threadId: string): boolean {
    return this.held.has(threadId);
  }

  private async renew(threadId: string): Promise<void> {
    const held = this.held.get(threadId);
    if (held === undefined) return;
    const { store, holder, clock } = this.options;
    const untilWallMs = clock.wallMs() + this.leaseMs;
    /** The wall time the lease now runs to; null when it is not ours any more. */
    let heldUntil: number | null = null;
    try {
      if (await store.leaseTurns(threadId, holder, untilWallMs)) heldUntil = untilWallMs;
    } catch (error) {
      // Not renewed: still ours until it lapses; past that another instance may run the thread.
      if (clock.wallMs() < held.untilWallMs) heldUntil = held.untilWallMs;
      this.options.logger.warn('turn lease not renewed', { error, thread_id: threadId });
    }
    if (this.held.get(threadId) !== held) return; // released meanwhile
    if (heldUntil !== null) {
      held.untilWallMs = heldUntil;
      return;
    }
    this.stopRenewing(threadId);
    this.options.logger.warn('turn lease lost to another instance', { thread_id: threadId });
    held.onLost();
  }

  private stopRenewing(threadId: string): void {
    const held = this.held.get(threadId);
    if (held === undefined) return;
    clearInterval(held.timer);
    this.held.delete(threadId);
  }
}

/** A thread's queue in the runner, as {@link drainLeased} sees it. */
interface LeasedThread {
  threadId: string;
  queue: { waiting: Set<string> };
  /** The controllers of the turns being worked on, by turn id. */
  controllers: ReadonlyMap<string, AbortController>;
}

/**
 * Runs `drain` (the runner's drain of a thread) under the thread's lease, then releases it; without
 * `leases` (one process) just runs it. A thread another instance holds is dropped from the queue
 * (that instance runs it); a lease lost midway stops the thread's turns where they are (a stop,
 * not a cancel: the instance that took the thread over retries the attempt).
 */
export async function drainLeased(
  leases: TurnLeases | undefined,
  thread: LeasedThread,
  drain: () => Promise<void>,
): Promise<void> {
  if (leases === undefined) return drain();
  const { waiting } = thread.queue;
  const lost = () => {
    for (const turnId of waiting) thread.controllers.get(turnId)?.abort('stop');
    waiting.clear();
  };
  if (!(await leases.acquire(thread.threadId, waiting, lost))) {
    waiting.clear();
    return;
  }
  try {
    await drain();
    // Turns another instance accepted while this one drained: run next (schedule sees them).
    await leases.refresh(waiting);
  } finally {
    await leases.release(thread.threadId);
  }
}
