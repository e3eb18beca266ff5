/**
 * @module A fake {@link Clock} for tests: time moves only when the test says so, never by waiting.
 */

import type { Clock } from '../../src/lib/clock.ts';

/** A clock whose monotonic and wall times advance together by {@link advance}; the wall can jump alone. */
export class FakeClock implements Clock {
  private mono: number;
  private wall: number;

  /** Starts at a fixed wall time (2026-11-24 12:00 UTC) and an arbitrary monotonic origin. */
  constructor(startWallMs = Date.UTC(2026, 10, 24, 12, 0, 0), startMonoMs = 1_000) {
    this.wall = startWallMs;
    this.mono = startMonoMs;
  }

  /** The fake monotonic time. */
  monoMs(): number {
    return this.mono;
  }

  /** The fake wall-clock time. */
  wallMs(): number {
    return this.wall;
  }

  /** Moves both clocks forward by `ms` (≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms ≥ 0, got ${ms}`);
    this.mono += ms;
    this.wall += ms;
  }

  /** Sets the wall clock alone, as an operator or NTP would; the monotonic clock is unaffected. */
  setWallMs(wallMs: number): void {
    this.wall = wallMs;
  }
}
