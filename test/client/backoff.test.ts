import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
  backoffDelayMs,
  backoffWindowMs,
  DEFAULT_BACKOFF,
  seededRandom,
} from '../../client/backoff.ts';

describe('backoffWindowMs', () => {
  test.each([
    [0, 500],
    [1, 1_000],
    [2, 2_000],
    [5, 16_000],
    [6, 30_000],
    [1_000, 30_000],
  ])('attempt %i has a window of %i ms', (attempt, windowMs) => {
    expect(backoffWindowMs(attempt, DEFAULT_BACKOFF)).toBe(windowMs);
  });

  test('refuses a negative or fractional attempt', () => {
    expect(() => backoffWindowMs(-1, DEFAULT_BACKOFF)).toThrow(RangeError);
    expect(() => backoffWindowMs(1.5, DEFAULT_BACKOFF)).toThrow(RangeError);
  });
});

describe('backoffDelayMs', () => {
  test('draws every delay within [0, window) with a seeded source, from the first retry', () => {
    const random = seededRandom(42);
    for (let attempt = 0; attempt < 12; attempt++) {
      const windowMs = backoffWindowMs(attempt, DEFAULT_BACKOFF);
      for (let i = 0; i < 200; i++) {
        const delayMs = backoffDelayMs(attempt, DEFAULT_BACKOFF, random);
        expect(delayMs).toBeGreaterThanOrEqual(0);
        expect(delayMs).toBeLessThan(windowMs);
      }
    }
  });

  test('spreads delays over the whole window, not around one value', () => {
    const random = seededRandom(7);
    const delays = Array.from({ length: 2_000 }, () => backoffDelayMs(3, DEFAULT_BACKOFF, random));
    const quarters = [0, 0, 0, 0];
    for (const delayMs of delays) quarters[Math.floor(delayMs / 1_000)]! += 1;
    // Uniform over [0, 4000): each quarter holds about 500 of 2000.
    for (const count of quarters) expect(count).toBeGreaterThan(400);
  });

  test('returns the same sequence for the same seed', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const drawsA = Array.from({ length: 5 }, (_, i) => backoffDelayMs(i, DEFAULT_BACKOFF, a));
    const drawsB = Array.from({ length: 5 }, (_, i) => backoffDelayMs(i, DEFAULT_BACKOFF, b));
    expect(drawsA).toEqual(drawsB);
  });

  test('uses the full window when jitter is off', () => {
    const options = { ...DEFAULT_BACKOFF, jitter: false };
    expect([0, 1, 2, 10].map((n) => backoffDelayMs(n, options, () => 0.1))).toEqual([
      500, 1_000, 2_000, 30_000,
    ]);
  });

  test('adds a floor under the jittered part', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, draw) => {
          const delayMs = backoffDelayMs(attempt, DEFAULT_BACKOFF, () => draw, 5_000);
          return delayMs >= 5_000 && delayMs < 5_000 + backoffWindowMs(attempt, DEFAULT_BACKOFF);
        },
      ),
    );
  });
});

describe('seededRandom', () => {
  test('stays within [0, 1)', () => {
    const random = seededRandom(123);
    for (let i = 0; i < 10_000; i++) {
      const value = random();
      expect(value >= 0 && value < 1).toBe(true);
    }
  });
});
