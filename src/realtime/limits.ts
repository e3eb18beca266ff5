/**
 * @module Rate limits for the realtime layer: a token bucket per connection
 * (`limits.messages_per_s`, `limits.burst`), the count of its refused frames over a window, and a
 * per-IP upgrade limiter (`limits.upgrades_per_ip_per_s`). All read the monotonic clock
 * (docs/design.md#clock), so a wall-clock jump neither frees nor freezes anyone.
 */
import type { Clock } from '../lib/clock.ts';

/**
 * A token bucket: starts full with `burst` tokens and refills at `ratePerS` tokens a second, never
 * above `burst`.
 */
export class TokenBucket {
  private tokens: number;
  private lastMonoMs: number;

  /** @throws RangeError when the rate is not positive or the burst is below 1. */
  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(ratePerS > 0)) throw new RangeError(`ratePerS must be > 0, got ${ratePerS}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be ≥ 1, got ${burst}`);
    this.tokens = burst;
    this.lastMonoMs = clock.monoMs();
  }

  /** Takes `count` tokens if there are enough; false (and nothing taken) otherwise. */
  tryTake(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** True when the bucket is full, i.e. the holder has been idle long enough to forget. */
  isFull(): boolean {
    return this.available() >= this.burst;
  }

  private refill(): void {
    const nowMs = this.clock.monoMs();
    // Monotonic by contract; a clock that still steps back refills nothing rather than draining.
    const elapsedMs = Math.max(0, nowMs - this.lastMonoMs);
    this.lastMonoMs = Math.max(this.lastMonoMs, nowMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerS) / 1000);
  }
}

/** How far back {@link RefusalWindow} looks (docs/decisions.md: a flood is judged over 10 s). */
const REFUSAL_WINDOW_MS = 10_000;

/**
 * Counts refused frames over the last {@link REFUSAL_WINDOW_MS}, in one-second slots (so the window
 * is 9–10 s long), in constant memory whatever the flood. A socket that keeps sending over its rate
 * is judged by this count, which an occasional refill does not reset (docs/protocol.md §8).
 */
export class RefusalWindow {
  private readonly slots: Array<{ second: number; count: number }>;

  constructor(
    private readonly clock: Clock,
    windowMs = REFUSAL_WINDOW_MS,
  ) {
    const size = Math.ceil(windowMs / 1000);
    if (!(size >= 1)) throw new RangeError(`windowMs must be ≥ 1000, got ${windowMs}`);
    this.slots = Array.from({ length: size }, () => ({
      second: Number.NEGATIVE_INFINITY,
      count: 0,
    }));
  }

  /** Counts one refusal now; returns the refusals within the window, this one included. */
  add(): number {
    const second = Math.floor(this.clock.monoMs() / 1000);
    const slot = this.slots[second % this.slots.length] as { second: number; count: number };
    if (slot.second !== second) {
      slot.second = second;
      slot.count = 0;
    }
    slot.count += 1;
    return this.count(second);
  }

  private count(nowSecond: number): number {
    let total = 0;
    for (const slot of this.slots) {
      if (slot.second > nowSecond - this.slots.length && slot.second <= nowSecond)
        total += slot.count;
    }
    return total;
  }
}

/** Options for {@link UpgradeLimiter}. */
interface UpgradeLimiterOptions {
  /** Upgrades allowed per address per second; also the burst. */
  perIpPerS: number;
  /** Addresses tracked at most; the least recently seen is forgotten first. */
  maxEntries?: number;
  clock: Clock;
}

/** Default number of addresses an {@link UpgradeLimiter} tracks. */
const DEFAULT_UPGRADE_LIMITER_ENTRIES = 10_000;

/**
 * Limits WebSocket upgrades per client address (docs/faults.md#w14) with one bucket per address, in
 * a bounded map. IPv6 clients are grouped by their /64, since one host usually owns a whole /64.
 */
export class UpgradeLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxEntries: number;

  constructor(private readonly options: UpgradeLimiterOptions) {
    this.maxEntries = options.maxEntries ?? DEFAULT_UPGRADE_LIMITER_ENTRIES;
    if (!(this.maxEntries >= 1)) throw new RangeError('maxEntries must be ≥ 1');
  }

  /** Counts one upgrade from `address`; false when it is over the limit (answer HTTP 429). */
  allow(address: string): boolean {
    const key = addressKey(address);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.evictIfFull();
      bucket = new TokenBucket(this.options.perIpPerS, this.options.perIpPerS, this.options.clock);
    } else {
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    return bucket.tryTake();
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  private evictIfFull(): void {
    if (this.buckets.size < this.maxEntries) return;
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

/** The limiter's key for an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const groups = expandIpv6(address.split('%')[0] ?? address);
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0]?.split(':') ?? []);
  const tail = halves.length === 2 && halves[1] !== '' ? (halves[1]?.split(':') ?? []) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => group.replace(/^0+(?=.)/, ''));
}
