/**
 * @module Write pacing from Zep's rate-limit headers (docs/decisions.md, "Zep v3 rate limits"):
 * every Zep Cloud answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`. While the budget
 * left in the window is above a reserve, writes go at full speed; at or below it, the outbox
 * spreads what is left over the rest of the window, and at zero it waits for the reset. Reads are
 * never paced: the reserve is what keeps them answered while the outbox slows down.
 */

/** The three headers as received (null when absent). */
export interface RateLimitHeaders {
  limit: string | null;
  remaining: string | null;
  reset: string | null;
}

/** The window the limits are counted over when `-Reset` is absent or junk: one minute. */
const DEFAULT_WINDOW_MS = 60_000;
/** Share of the limit kept for reads. */
const RESERVE_FRACTION = 0.1;
/** A `-Reset` at or above this is an epoch time in seconds, below it a delay in seconds. */
const EPOCH_SECONDS_FLOOR = 1_000_000_000;

function count(value: string | null): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value);
}

/** When the window resets, as wall-clock ms, from a `-Reset` value. */
function resetAtWallMs(value: string | null, nowWallMs: number): number {
  const seconds = value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value) ? null : Number(value);
  if (seconds === null) return nowWallMs + DEFAULT_WINDOW_MS;
  const at = seconds >= EPOCH_SECONDS_FLOOR ? seconds * 1000 : nowWallMs + seconds * 1000;
  // A reset in the past, or absurdly far ahead, is bounded to one window.
  return Math.min(Math.max(at, nowWallMs), nowWallMs + DEFAULT_WINDOW_MS);
}

/** Remembers the last rate-limit headers and turns them into a pause for writes. */
export class WritePacer {
  private remaining: number | null = null;
  private reserve = 1;
  private resetAt = 0;
  private seenAt = 0;

  constructor(private readonly wallMs: () => number) {}

  /** Records one answer's headers; an answer without them changes nothing. */
  observe(headers: RateLimitHeaders | undefined): void {
    const remaining = count(headers?.remaining ?? null);
    if (remaining === null) return;
    const limit = count(headers?.limit ?? null);
    const now = this.wallMs();
    this.remaining = remaining;
    this.reserve =
      limit === null || limit === 0 ? 1 : Math.max(1, Math.ceil(limit * RESERVE_FRACTION));
    this.resetAt = resetAtWallMs(headers?.reset ?? null, now);
    this.seenAt = now;
  }

  /**
   * How long the outbox should wait before its next write, in ms: 0 while the budget is above
   * the reserve or the window has reset; otherwise the rest of the window divided over the
   * requests left (all of it at zero).
   */
  pauseMs(): number {
    if (this.remaining === null || this.remaining > this.reserve) return 0;
    const now = this.wallMs();
    const left = this.resetAt - now;
    if (left <= 0) return 0;
    const spacing = left / (this.remaining + 1);
    // Time already waited since the answer counts toward the spacing.
    return Math.max(0, Math.ceil(Math.min(left, spacing - (now - this.seenAt))));
  }
}
