/**
 * Contract: outbox delivery leases. Every adapter lets one store claim, settle and claim again.
 * Leases between several instances sharing one database are PostgreSQL's alone:
 * test/storage/postgres/leases.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import type { OutboxBatch, Store } from '../../../src/storage/store.ts';
import { type MakeStore, write } from './contract.ts';

const threadsOf = (batches: OutboxBatch[]) => batches.map((b) => b.threadId);
const claimAll = (store: Store, leaseMs = 10_000) =>
  store.claimBatch({ maxThreads: 100, batchSize: 100, leaseMs });

/** Registers the lease cases. */
export function leasesContract(make: MakeStore): void {
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
  });
}
