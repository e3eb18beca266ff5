/** Contract: breaker state, runtime overrides and their audit trail, epoch and checks. */
import { describe, expect, test } from 'bun:test';
import type {
  OverridePlan,
  RuntimeOverride,
  StoredBreakerState,
} from '../../../src/storage/store.ts';
import { FakeClock } from '../../support/clock.ts';
import type { MakeStore } from './contract.ts';

const OPEN: StoredBreakerState = {
  state: 'open',
  consecutiveFailures: 5,
  openedAtWallMs: 1_795_000_000_000,
  nextProbeAtWallMs: 1_795_000_030_000,
  reopenCount: 2,
  lastError: 'timeout after 2000 ms',
  reason: 'failures',
};

function storedValue(rows: readonly RuntimeOverride[], key: string): string | undefined {
  return rows.find((row) => row.key === key)?.valueJson;
}

/** Registers the admin-state cases. */
export function adminContract(make: MakeStore): void {
  describe('runtime config', () => {
    test('set, change and unset are listed and audited old → new with actor and time', async () => {
      const clock = new FakeClock();
      await using db = await make({ clock });
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

    test('concurrent changes of one key from two instances audit an unbroken chain', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const stores = [db.store, second];
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => stores[i % 2]!.setOverride('k', `${i}`, `a${i}`)),
        );
        const trail = (await db.store.auditTrail(100)).reverse();
        expect(trail).toHaveLength(20);
        expect(trail[0]!.oldJson).toBeNull();
        for (let i = 1; i < trail.length; i++)
          expect(trail[i]!.oldJson).toBe(trail[i - 1]!.newJson);
        const [current] = await second.listOverrides();
        expect(current!.valueJson).toBe(trail.at(-1)!.newJson!);
      } finally {
        await second.close();
      }
    });
    test('updateOverrides decides against the rows committed by every other writer', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        // Each plan keeps burst >= rate by its own reading; run together, only one may write.
        const lowerBurst: OverridePlan<boolean> = (stored) => {
          const ok = Number(storedValue(stored, 'rate')) <= 20;
          return { writes: ok ? [{ key: 'burst', valueJson: '20' }] : [], result: ok };
        };
        const raiseRate: OverridePlan<boolean> = (stored) => {
          const ok = Number(storedValue(stored, 'burst')) >= 40;
          return { writes: ok ? [{ key: 'rate', valueJson: '40' }] : [], result: ok };
        };
        for (let round = 0; round < 20; round++) {
          await db.store.setOverride('burst', '40', 'reset');
          await db.store.setOverride('rate', '20', 'reset');
          const [first, other] = round % 2 === 0 ? [db.store, second] : [second, db.store];
          const applied = await Promise.all([
            first.updateOverrides(lowerBurst, 'a'),
            other.updateOverrides(raiseRate, 'b'),
          ]);
          expect(applied.filter(Boolean)).toHaveLength(1);
          const rows = await second.listOverrides();
          expect(Number(storedValue(rows, 'burst'))).toBeGreaterThanOrEqual(
            Number(storedValue(rows, 'rate')),
          );
        }
      } finally {
        await second.close();
      }
    });

    test('a write of the stored value, or a removal of nothing, stores and audits nothing', async () => {
      await using db = await make();
      await db.store.setOverride('k', '1', 'a');
      await db.store.setOverride('k', '1', 'b');
      const result = await db.store.updateOverrides(
        () => ({
          writes: [
            { key: 'k', valueJson: '1' },
            { key: 'missing', valueJson: null },
          ],
          result: 'done',
        }),
        'c',
      );
      expect(result).toBe('done');
      const trail = await db.store.auditTrail(10);
      expect(trail.map((entry) => entry.actor)).toEqual(['a']);
      expect((await db.store.listOverrides()).map((row) => [row.key, row.actor])).toEqual([
        ['k', 'a'],
      ]);
    });
  });

  describe('breaker state', () => {
    test('a saved snapshot loads back field for field, per backend, on any instance', async () => {
      await using db = await make();
      expect(await db.store.loadBreakerState('zep')).toBeNull();
      await db.store.saveBreakerState('zep', OPEN);
      expect(await db.store.loadBreakerState('zep')).toEqual(OPEN);
      const closed: StoredBreakerState = {
        ...OPEN,
        state: 'closed',
        consecutiveFailures: 0,
        openedAtWallMs: null,
        nextProbeAtWallMs: null,
        reopenCount: 0,
        lastError: null,
        reason: null,
      };
      await db.store.saveBreakerState('zep', closed);
      const second = await db.openSecond();
      try {
        expect(await second.loadBreakerState('zep')).toEqual(closed);
        expect(await second.loadBreakerState('local')).toBeNull();
      } finally {
        await second.close();
      }
    });
  });

  describe('maintenance', () => {
    test('the epoch is 32 hex characters, stable, and the same on every instance', async () => {
      await using db = await make();
      const epoch = await db.store.epoch();
      expect(epoch).toMatch(/^[0-9a-f]{32}$/);
      const second = await db.openSecond();
      try {
        expect(await second.epoch()).toBe(epoch);
      } finally {
        await second.close();
      }
      expect(await db.store.epoch()).toBe(epoch);
    });

    test('each new database gets its own epoch', async () => {
      await using a = await make();
      await using b = await make();
      expect(await a.store.epoch()).not.toBe(await b.store.epoch());
    });

    test('checks pass on a healthy database and the write probe commits nothing', async () => {
      await using db = await make();
      await db.store.appendEvent('u1', 'e', 1);
      expect(await db.store.quickCheck()).toEqual({ ok: true, problems: [] });
      expect(await db.store.integrityCheck()).toEqual({ ok: true, problems: [] });
      expect(await db.store.probeWrite()).toEqual({ ok: true });
      expect(await db.store.probeWrite()).toEqual({ ok: true });
      expect(db.store.storageHealth()).toEqual({ ok: true });
    });
  });
}
