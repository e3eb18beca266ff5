/**
 * @module The hub: every open socket by user, and the one path by which frames reach a socket. It
 * enforces the per-user socket cap (docs/design.md#ids-and-limits), closes slow consumers
 * (docs/design.md#one-frame-at-a-time), and keeps the snapshot and the live stream from racing
 * (docs/design.md#snapshot-before-stream):
 *
 * 1. `register` the socket first; pushes that arrive from then on are buffered;
 * 2. read the snapshot (its `seq` is the last event it covers);
 * 3. `completeSnapshot` sends the `rehydrate` frame, the replayed events, then the buffered frames,
 *    dropping every push whose `seq` is not above what the socket already has, and every
 *    `reply.delta` whose text the rehydrate's open replies already hold (replies.ts).
 *
 * After that, pushed `seq` values on one socket strictly increase.
 */
import { assert } from '../lib/assert.ts';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import {
  CLOSE,
  isPushFrame,
  type PushFrame,
  type RehydrateFrame,
  type ServerFrame,
} from './protocol.ts';
import { coveredOffsets, isCoveredDelta } from './replies.ts';
import type { SocketLike } from './socket.ts';

/** Options for {@link Hub}. */
interface HubOptions {
  /** `limits.sockets_per_user`; the next socket is closed with 4008. */
  socketsPerUser: number;
  /** Send-buffer limit per socket; over it the socket is closed with 4008. */
  maxBufferedBytes?: number;
  /** Frames buffered per socket while its snapshot is read; over it the socket is closed. */
  maxPendingFrames?: number;
  logger?: Logger;
}

/** Default send-buffer limit per socket (decision: 1 MiB, far above one rehydrate frame). */
const DEFAULT_MAX_BUFFERED_BYTES = 1_048_576;
/** Default cap on frames buffered while a snapshot is read (history.max_events is 1000). */
const DEFAULT_MAX_PENDING_FRAMES = 1_024;

interface Pending {
  frame: ServerFrame;
  text: string;
}

interface Entry {
  userId: string;
  state: 'snapshot' | 'open';
  /** Highest pushed `seq` this socket has been sent; -1 before the snapshot. */
  lastSentSeq: number;
  pending: Pending[];
}

/** Registry of sockets per user and the only way frames are sent to them. */
export class Hub {
  private readonly users = new Map<string, Set<SocketLike>>();
  private readonly entries = new Map<SocketLike, Entry>();
  private maxBufferedBytes: number;
  private readonly maxPendingFrames: number;
  private readonly logger: Logger;

  constructor(private readonly options: HubOptions) {
    assert(options.socketsPerUser >= 1, 'socketsPerUser must be at least 1');
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxPendingFrames = options.maxPendingFrames ?? DEFAULT_MAX_PENDING_FRAMES;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Adds a socket before its snapshot is read. Returns false, after closing the socket with
   * 4008, when the user already has `socketsPerUser` sockets.
   */
  register(userId: string, socket: SocketLike): boolean {
    assert(!this.entries.has(socket), 'a socket is registered once');
    const sockets = this.users.get(userId) ?? new Set<SocketLike>();
    if (sockets.size >= this.options.socketsPerUser) {
      closeQuietly(socket, CLOSE.rateLimited, 'too many connections for this user');
      return false;
    }
    sockets.add(socket);
    this.users.set(userId, sockets);
    this.entries.set(socket, { userId, state: 'snapshot', lastSentSeq: -1, pending: [] });
    return true;
  }

  /**
   * Sends the `rehydrate` frame, then `replay` (missed events, in order), then whatever was
   * buffered since `register`, skipping pushes the socket already has. False when the socket is
   * gone or was closed for being slow.
   */
  completeSnapshot(
    socket: SocketLike,
    rehydrate: RehydrateFrame,
    replay: readonly PushFrame[] = [],
  ): boolean {
    const entry = this.entries.get(socket);
    if (entry === undefined || entry.state !== 'snapshot') return false;
    entry.state = 'open';
    if (!this.write(socket, entry, JSON.stringify(rehydrate))) return false;
    let replayedSeq = -1;
    for (const frame of replay) {
      if (frame.seq <= replayedSeq) continue;
      if (!this.write(socket, entry, JSON.stringify(frame))) return false;
      replayedSeq = frame.seq;
    }
    entry.lastSentSeq = Math.max(rehydrate.seq, replayedSeq);
    const buffered = entry.pending;
    entry.pending = [];
    const covered = coveredOffsets(rehydrate);
    for (const { frame, text } of buffered) {
      if (isCoveredDelta(frame, covered)) continue;
      if (!this.sendPrepared(socket, entry, frame, text)) {
        if (!this.entries.has(socket)) return false;
      }
    }
    return true;
  }

  /** Sends one frame (a reply or a per-socket notice) to one socket; false if not sent. */
  send(socket: SocketLike, frame: ServerFrame): boolean {
    const entry = this.entries.get(socket);
    if (entry === undefined) return false;
    return this.sendPrepared(socket, entry, frame, JSON.stringify(frame));
  }

  /** Forgets a socket (call from the close handler); safe to call twice. */
  /**
   * Sends a frame to every socket of `userId`, serialised once (the assistant's live `reply.delta`
   * path); returns how many sockets took it.
   */
  deliver(userId: string, frame: ServerFrame): number {
    const sockets = this.users.get(userId);
    if (sockets === undefined) return 0;
    const text = JSON.stringify(frame);
    let delivered = 0;
    for (const socket of [...sockets]) {
      const entry = this.entries.get(socket);
      if (entry !== undefined && this.sendPrepared(socket, entry, frame, text)) delivered += 1;
    }
    return delivered;
  }

  unregister(socket: SocketLike): void {
    const entry = this.entries.get(socket);
    if (entry === undefined) return;
    this.entries.delete(socket);
    const sockets = this.users.get(entry.userId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.users.delete(entry.userId);
  }

  /** Changes the per-user cap and the send-buffer limit live (runtime config); existing sockets stay. */
  setLimits(limits: { socketsPerUser?: number; maxBufferedBytes?: number }): void {
    if (limits.socketsPerUser !== undefined) {
      assert(limits.socketsPerUser >= 1, 'socketsPerUser must be at least 1');
      this.options.socketsPerUser = limits.socketsPerUser;
    }
    if (limits.maxBufferedBytes !== undefined) this.maxBufferedBytes = limits.maxBufferedBytes;
  }

  /** The sockets of one user, in registration order. */
  socketsOf(userId: string): SocketLike[] {
    return [...(this.users.get(userId) ?? [])];
  }

  private sendPrepared(
    socket: SocketLike,
    entry: Entry,
    frame: ServerFrame,
    text: string,
  ): boolean {
    if (entry.state === 'snapshot') {
      if (entry.pending.length >= this.maxPendingFrames) {
        this.closeSlow(socket, 'too many frames queued before the snapshot');
        return false;
      }
      entry.pending.push({ frame, text });
      return true;
    }
    const seq = isPushFrame(frame) ? frame.seq : undefined;
    if (seq !== undefined && seq <= entry.lastSentSeq) return false;
    if (!this.write(socket, entry, text)) return false;
    if (seq !== undefined) entry.lastSentSeq = seq;
    return true;
  }

  /** One `send`, with the slow-consumer rule of docs/design.md#one-frame-at-a-time. */
  private write(socket: SocketLike, entry: Entry, text: string): boolean {
    if (!this.entries.has(socket) || entry !== this.entries.get(socket)) return false;
    if (socket.getBufferedAmount() > this.maxBufferedBytes) {
      this.closeSlow(socket, 'send buffer over its limit');
      return false;
    }
    const status = socket.send(text);
    if (status === 0) {
      this.closeSlow(socket, 'frame dropped by the send buffer');
      return false;
    }
    if (status < 0 && socket.getBufferedAmount() > this.maxBufferedBytes) {
      this.closeSlow(socket, 'send buffer over its limit');
      return false;
    }
    return true;
  }

  private closeSlow(socket: SocketLike, why: string): void {
    const userId = this.entries.get(socket)?.userId;
    this.unregister(socket);
    this.logger.warn('closing a slow consumer', { user_id: userId, why });
    closeQuietly(socket, CLOSE.rateLimited, 'slow consumer');
  }
}

/** Closes a socket; closing one that is already closed must never throw into the caller. */
function closeQuietly(socket: SocketLike, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // Already closed or half gone: nothing more to do.
  }
}
