import { describe, expect, test } from 'bun:test';
import {
  addressKey,
  RefusalWindow,
  TokenBucket,
  UpgradeLimiter,
} from '../../src/realtime/limits.ts';
import { FakeClock } from '../support/clock.ts';

function takeAll(bucket: TokenBucket, attempts: number): number {
  let taken = 0;
  for (let i = 0; i < attempts; i += 1) if (bucket.tryTake()) taken += 1;
  return taken;
}

describe('TokenBucket', () => {
  test('allows the burst at once, then refuses', () => {
    const bucket = new TokenBucket(20, 40, new FakeClock());
    expect(takeAll(bucket, 100)).toBe(40);
  });

  test('refills at the rate and never above the burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(20, 40, clock);
    takeAll(bucket, 40);
    clock.advance(500);
    expect(takeAll(bucket, 100)).toBe(10);
    clock.advance(60_000);
    expect(takeAll(bucket, 100)).toBe(40);
  });

  test('a flood of 10,000 over t seconds gets at most burst + rate·t (docs/faults.md#w12)', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(20, 40, clock);
    let taken = 0;
    for (let i = 0; i < 10_000; i += 1) {
      if (bucket.tryTake()) taken += 1;
      clock.advance(1);
    }
    expect(taken).toBeLessThanOrEqual(40 + 20 * 10);
    expect(taken).toBeGreaterThanOrEqual(40 + 20 * 10 - 1);
  });

  test('ignores the wall clock: a jump neither frees nor freezes tokens (docs/faults.md#p10)', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 2, clock);
    takeAll(bucket, 2);
    clock.setWallMs(clock.wallMs() + 86_400_000);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1_000);
    expect(bucket.tryTake()).toBe(true);
  });

  test('takes nothing when a multi-token request does not fit', () => {
    const bucket = new TokenBucket(1, 3, new FakeClock());
    expect(bucket.tryTake(4)).toBe(false);
    expect(bucket.available()).toBe(3);
  });

  test('refuses a rate or burst that cannot work', () => {
    expect(() => new TokenBucket(0, 1, new FakeClock())).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, new FakeClock())).toThrow(RangeError);
  });
});

describe('RefusalWindow', () => {
  test('counts refusals of the last ten seconds; older ones drop out', () => {
    const clock = new FakeClock(0, 0);
    const window = new RefusalWindow(clock);
    for (let i = 0; i < 5; i += 1) window.add();
    clock.advance(9_000);
    expect(window.add()).toBe(6);
    clock.advance(1_000);
    expect(window.add()).toBe(2);
    clock.advance(60_000);
    expect(window.add()).toBe(1);
  });
});

describe('UpgradeLimiter', () => {
  test('allows the per-second limit per address, then refuses until time passes (docs/faults.md#w14)', () => {
    const clock = new FakeClock();
    const limiter = new UpgradeLimiter({ perIpPerS: 50, clock });
    const allowed = Array.from({ length: 60 }, () => limiter.allow('10.0.0.1')).filter(Boolean);
    expect(allowed.length).toBe(50);
    expect(limiter.allow('10.0.0.2')).toBe(true);
    clock.advance(1_000);
    expect(limiter.allow('10.0.0.1')).toBe(true);
  });

  test('keeps at most maxEntries addresses, forgetting the least recently seen', () => {
    const clock = new FakeClock();
    const limiter = new UpgradeLimiter({ perIpPerS: 1, maxEntries: 2, clock });
    expect(limiter.allow('10.0.0.1')).toBe(true);
    expect(limiter.allow('10.0.0.2')).toBe(true);
    expect(limiter.allow('10.0.0.1')).toBe(false);
    expect(limiter.allow('10.0.0.3')).toBe(true);
    expect(limiter.size).toBe(2);
    // 10.0.0.2 was the least recently seen, so it was forgotten and starts afresh.
    expect(limiter.allow('10.0.0.2')).toBe(true);
    expect(limiter.size).toBe(2);
  });

  test('groups IPv6 clients by /64 and IPv4-mapped clients with IPv4', () => {
    const limiter = new UpgradeLimiter({ perIpPerS: 1, clock: new FakeClock() });
    expect(limiter.allow('2001:db8:1:2::1')).toBe(true);
    expect(limiter.allow('2001:db8:1:2:ffff::9')).toBe(false);
    expect(limiter.allow('2001:db8:1:3::1')).toBe(true);
    expect(limiter.allow('::ffff:10.0.0.1')).toBe(true);
    expect(limiter.allow('10.0.0.1')).toBe(false);
  });
});

describe('addressKey', () => {
  test.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::1', '0:0:0:0::/64'],
    ['2001:DB8:0:0:1::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['not:an:address::x', 'not:an:address::x'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
