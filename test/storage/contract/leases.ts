/**
 * Contract: outbox delivery leases (cluster mode). Every adapter lets one store claim, settle and
 * claim again; on an adapter that several instances share (`shared`), a claimed thread is
 * held by one store at a time until it is settled or its lease lapses.
 */
import { describe, expect, test } from 'bun:test';
import type { OutboxBatch, Store } from '../../../src/storage/store.ts';
import { FakeClock } from '../../support/clock.ts';
import { type MakeStore, write } from './contract.ts';

const threadsOf = (batches: OutboxBatch[]) => batches.map((b) => b.threadId);
const claimAll = (store: Store, leaseMs = 10_000) =>
  store.claimBatch({ maxThreads: 100, batchSize: 100, leaseMs });

/** Registers the lease cases. */
export function leasesContract(make: MakeStore, shared: boolean): void {
  // Cases about several instances are registered only for an adapter they apply to, so a run on
  // SQLite reports no skipped tests (docs/faults.md#tools: zero skips under CI).
  const sharedOnly = shared ? test : () => {};
  describe('outbox leases', () => {
    test('a store claims its own thread again after settling, and after each failed attempt', async () => {
      await using db = await make();
      const a1 = await write(db.store, 'tA', 'a1');
      const a2 = await write(db.store, 'tA', 'a2');
      expect(threadsOf(await claimAll(db.store))).toEqual(['tA']);
      await db.store.recordAttemptFailure([a1, a2], 'timeout');
      expect(threadsOf(await claimAll(db.store))).toEqual(['tA']);
      await db.store.markDelivered([a1], { keepLeaseMs: 10_000 });
      await db.store.markDead([a2], 'HTTP 400');
      await write(db.store, 'tA', 'a3');
      const [batch] = await claimAll(db.store);
      expect(batch!.messages.map((m) => m.content)).toEqual(['a3']);
    });

    sharedOnly('two stores never hold the same thread at once', async () => {
      await using db = await make();
      await using second = asDisposable(await db.openSecond());
      for (let i = 0; i < 20; i++) await write(db.store, `t${i}`, `m${i}`, `u${i}`);
      const [a, b] = await Promise.all([claimAll(db.store), claimAll(second.store)]);
      const claimedA = threadsOf(a);
      const claimedB = threadsOf(b);
      expect(claimedA.filter((t) => claimedB.includes(t))).toEqual([]);
      expect([...claimedA, ...claimedB].sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `t${i}`).sort(),
      );
      // Held threads stay held while their leases run, however often the other store asks.
      const again = threadsOf(await claimAll(second.store));
      expect(again.filter((t) => claimedA.includes(t))).toEqual([]);
    });

    sharedOnly('settling releases the lease to the other store; keepLeaseMs keeps it', async () => {
      await using db = await make();
      await using second = asDisposable(await db.openSecond());
      const a1 = await write(db.store, 'tA', 'a1');
      const a2 = await write(db.store, 'tA', 'a2');
      expect(threadsOf(await claimAll(db.store))).toEqual(['tA']);
      await db.store.markDelivered([a1], { keepLeaseMs: 10_000 });
      expect(await claimAll(second.store)).toEqual([]);
      await db.store.recordAttemptFailure([a2], 'HTTP 503');
      const [batch] = await claimAll(second.store);
      expect(batch!.messages.map((m) => [m.content, m.attempts])).toEqual([['a2', 1]]);
      expect(await claimAll(db.store)).toEqual([]);
    });

    sharedOnly(
      'a lapsed lease is taken over by another store, and the first cannot release it',
      async () => {
        const clock = new FakeClock();
        await using db = await make({ clock });
        await using second = asDisposable(await db.openSecond());
        const a1 = await write(db.store, 'tA', 'a1');
        expect(threadsOf(await claimAll(db.store, 5_000))).toEqual(['tA']);
        clock.advance(4_999);
        expect(await claimAll(second.store)).toEqual([]);
        clock.advance(1);
        expect(threadsOf(await claimAll(second.store))).toEqual(['tA']);
        // The first store's late settle records the outcome but leaves the new holder's lease.
        await db.store.recordAttemptFailure([a1], 'timeout');
        await write(db.store, 'tB', 'b1');
        expect(threadsOf(await claimAll(db.store))).toEqual(['tB']);
      },
    );
  });
}

function asDisposable(store: Store): { store: Store } & AsyncDisposable {
  return { store, [Symbol.asyncDispose]: () => store.close() };
}
