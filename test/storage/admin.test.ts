import { describe, expect, test } from 'bun:test';
import type { StoredBreakerState } from '../../src/storage/store.ts';
import { FakeClock } from '../support/clock.ts';
import { freshStore } from '../support/db.ts';

describe('runtime config', () => {
  test('set, change and unset are listed and audited old → new with actor and time', async () => {
    const clock = new FakeClock();
    await using db = freshStore({ clock });
    const t0 = clock.wallMs();
    await db.store.setOverride('breaker.cooldown_s', '30', 'cli');
    clock.advance(1000);
    await db.store.setOverride('breaker.cooldown_s', '60', 'admin-api');
    expect(await db.store.listOverrides()).toEqual([
      {
        key: 'breaker.cooldown_s',
        valueJson: '60',
        actor: 'admin-api',
        updatedAtWallMs: t0 + 1000,
      },
    ]);
    clock.advance(1000);
    expect(await db.store.unsetOverride('breaker.cooldown_s', 'cli')).toBe(true);
    expect(await db.store.unsetOverride('breaker.cooldown_s', 'cli')).toBe(false);
    expect(await db.store.listOverrides()).toEqual([]);
    expect(await db.store.auditTrail(10)).toEqual([
      {
        key: 'breaker.cooldown_s',
        oldJson: '60',
        newJson: null,
        actor: 'cli',
        atWallMs: t0 + 2000,
      },
      {
        key: 'breaker.cooldown_s',
        oldJson: '30',
        newJson: '60',
        actor: 'admin-api',
        atWallMs: t0 + 1000,
      },
      { key: 'breaker.cooldown_s', oldJson: null, newJson: '30', actor: 'cli', atWallMs: t0 },
    ]);
    expect(await db.store.auditTrail(1)).toHaveLength(1);
  });
});

describe('breaker state', () => {
  test('a saved snapshot loads back field for field, per backend', async () => {
    await using db = freshStore();
    const open: StoredBreakerState = {
      state: 'open',
      consecutiveFailures: 5,
      openedAtWallMs: 1_795_000_000_000,
      nextProbeAtWallMs: 1_795_000_030_000,
      reopenCount: 2,
      lastError: 'timeout after 2000 ms',
      reason: 'failures',
    };
    expect(await db.store.loadBreakerState('zep')).toBeNull();
    await db.store.saveBreakerState('zep', open);
    expect(await db.store.loadBreakerState('zep')).toEqual(open);
    const closed = {
      ...open,
      state: 'closed',
      consecutiveFailures: 0,
      openedAtWallMs: null,
      nextProbeAtWallMs: null,
      reopenCount: 0,
      lastError: null,
      reason: null,
    };
    await db.store.saveBreakerState('zep', closed);
    expect(await db.store.loadBreakerState('zep')).toEqual(closed);
    expect(await db.store.loadBreakerState('local')).toBeNull();
  });
});
