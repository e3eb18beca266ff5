import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { nextCooldownMs } from '../../src/breaker/cooldown.ts';

const base = { baseMs: 30_000, maxMs: 300_000, backoff: 2, jitterRatio: 0.1 };

describe('nextCooldownMs', () => {
  test('grows by the backoff per re-open and stops at the cap', () => {
    const random = () => 0.5;
    const sequence = [0, 1, 2, 3, 4, 10, 5_000].map((reopenCount) =>
      nextCooldownMs({ ...base, reopenCount, random }),
    );
    expect(sequence).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
  });

  test('jitter stays within ±10 % over many seeded draws, and uses the whole range', () => {
    let lowest = Number.POSITIVE_INFINITY;
    let highest = 0;
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
        const ms = nextCooldownMs({ ...base, reopenCount: 0, random: () => r });
        lowest = Math.min(lowest, ms);
        highest = Math.max(highest, ms);
        return ms >= 27_000 && ms <= 33_000;
      }),
      { seed: 20261124, numRuns: 5_000 },
    );
    expect(lowest).toBeLessThan(27_300);
    expect(highest).toBeGreaterThan(32_700);
  });

  test('jitter applies after the cap, so capped cooldowns still spread', () => {
    const at = (r: number) => nextCooldownMs({ ...base, reopenCount: 9, random: () => r });
    expect([at(0), at(0.5), at(0.999_999)]).toEqual([270_000, 300_000, 330_000]);
  });

  test('a minimum such as Retry-After raises the cooldown, itself capped at the max', () => {
    const random = () => 0.5;
    const withMin = (minMs: number) => nextCooldownMs({ ...base, reopenCount: 0, random, minMs });
    expect([withMin(1_000), withMin(120_000), withMin(1e12)]).toEqual([30_000, 120_000, 300_000]);
  });

  test('a backoff of 1 keeps the cooldown constant', () => {
    const ms = nextCooldownMs({ ...base, backoff: 1, reopenCount: 50, random: () => 0.5 });
    expect(ms).toBe(30_000);
  });
});
