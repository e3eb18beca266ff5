/**
 * @module One open socket's state: who it is, its token's expiry, its token bucket, and the serial
 * queue that handles its frames one at a time, in order (docs/design.md#one-frame-at-a-time).
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { RefusalWindow, TokenBucket } from './limits.ts';
import type { SocketLike } from './socket.ts';

/** Per-socket limits taken from config when the socket opens. */
interface SessionLimits {
  messagesPerS: number;
  burst: number;
}

/** What a socket carries; `socket.data` of the hub's {@link SocketLike}. */
export class Session {
  /** The socket as the hub sees it; set right after construction. */
  socket!: SocketLike<Session>;
  /** Wall-clock ms of the current token's `exp`. */
  tokenExpMs: number;
  /** True once `auth.expiring` was sent for the current token. */
  expiryNoticeSent = false;
  /** True once the socket is registered in the hub (and counted in the gauge). */
  registered = false;
  closed = false;
  /** True once a close is queued behind the admitted frames; new frames are ignored. */
  closing = false;
  /** Frames refused by the token bucket since the last accepted one. */
  strikes = 0;
  /** Frames refused within the last ten seconds, set by {@link admit}; a refill does not reset it. */
  recentRefusals = 0;
  /** The memory.query whose answer is still pending (at most one per socket). */
  queryInFlight: Promise<void> | undefined;
  private readonly bucket: TokenBucket;
  private readonly refusals: RefusalWindow;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    readonly userId: string,
    readonly connectionId: string,
    tokenExpMs: number,
    limits: SessionLimits,
    clock: Clock,
    private readonly logger: Logger,
  ) {
    this.tokenExpMs = tokenExpMs;
    this.bucket = new TokenBucket(limits.messagesPerS, limits.burst, clock);
    this.refusals = new RefusalWindow(clock);
  }

  /** Takes one token for an inbound frame; counts a strike (and a refusal) when there is none. */
  admit(): boolean {
    if (this.bucket.tryTake()) {
      this.strikes = 0;
      return true;
    }
    this.strikes += 1;
    this.recentRefusals = this.refusals.add();
    return false;
  }

  /** Frames waiting in (or running from) the queue. */
  get queueLength(): number {
    return this.queued;
  }

  /**
   * Runs `task` after every task queued before it. A task never rejects the chain: an exception
   * is logged (the task itself answers the client). Tasks of a closed socket are skipped.
   */
  enqueue(task: () => Promise<void> | void): void {
    this.queued += 1;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.closed) await task();
      } catch (error) {
        this.logger.error('frame handler failed', { error, connection_id: this.connectionId });
      } finally {
        this.queued -= 1;
      }
    });
  }

  /** Resolves when every task queued so far has run (tests and drain). */
  idle(): Promise<void> {
    return this.tail;
  }
}
