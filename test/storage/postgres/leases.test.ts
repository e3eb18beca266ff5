/**
 * PostgreSQL-only: outbox delivery leases between instances. Several stores share one database
 * (what several lifeline instances are); a claimed thread is held by one store at a time until it
 * is settled or its lease lapses. The single-store lease case runs on both engines in the store
 * contract (contract/leases.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Clock } from '../../../src/lib/clock.ts';
import { createPgStore } from '../../../src/storage/postgres/connect.ts';
import type { OutboxBatch, Store } from '../../../src/storage/store.ts';
import { FakeClock } from '../../support/clock.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../../support/postgres.ts';
import { write } from '../contract/contract.ts';

let server: PgServer | undefined;

const threadsOf = (batches: OutboxBatch[]) => batches.map((b) => b.threadId);
const claimAll = (store: Store, leaseMs = 10_000) =>
  store.claimBatch({ maxThreads: 100, batchSize: 100, leaseMs });

/** Two stores, each with its own pool, on one fresh database. */
async function twoInstances(clock?: Clock) {
  const pg = server!;
  const name = databaseName();
  const url = await pg.createDatabase(name);
  const first = await createPgStore({ url, clock });
  const second = await createPgStore({ url, clock, poolSize: 4 });
  return {
    first,
    second,
    async [Symbol.asyncDispose]() {
      await second.close();
      await first.close();
      await pg.dropDatabase(name);
    },
  };
}

describe.skipIf(!postgresTestsEnabled('the PostgreSQL lease tests'))('postgres leases', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('two stores never hold the same thread at once', async () => {
    await using db = await twoInstances();
    for (let i = 0; i < 20; i++) await write(db.first, `t${i}`, `m${i}`, `u${i}`);
    const [a, b] = await Promise.all([claimAll(db.first), claimAll(db.second)]);
    const claimedA = threadsOf(a);
    const claimedB = threadsOf(b);
    expect(claimedA.filter((t) => claimedB.includes(t))).toEqual([]);
    expect([...claimedA, ...claimedB].sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `t${i}`).sort(),
    );
    // Held threads stay held while their leases run, however often the other store asks.
    const again = threadsOf(await claimAll(db.second));
    expect(again.filter((t) => claimedA.includes(t))).toEqual([]);
  });

  test('settling releases the lease to the other store; keepLeaseMs keeps it', async () => {
    await using db = await twoInstances();
    const a1 = await write(db.first, 'tA', 'a1');
    const a2 = await write(db.first, 'tA', 'a2');
    expect(threadsOf(await claimAll(db.first))).toEqual(['tA']);
    await db.first.markDelivered([a1], { keepLeaseMs: 10_000 });
    expect(await claimAll(db.second)).toEqual([]);
    await db.first.recordAttemptFailure([a2], 'HTTP 503');
    const [batch] = await claimAll(db.second);
    expect(batch!.messages.map((m) => [m.content, m.attempts])).toEqual([['a2', 1]]);
    expect(await claimAll(db.first)).toEqual([]);
  });

  test('a lapsed lease is taken over by another store, and the first cannot release it', async () => {
    const clock = new FakeClock();
    await using db = await twoInstances(clock);
    const a1 = await write(db.first, 'tA', 'a1');
    expect(threadsOf(await claimAll(db.first, 5_000))).toEqual(['tA']);
    clock.advance(4_999);
    expect(await claimAll(db.second)).toEqual([]);
    clock.advance(1);
    expect(threadsOf(await claimAll(db.second))).toEqual(['tA']);
    // The first store's late settle records the outcome but leaves the new holder's lease.
    await db.first.recordAttemptFailure([a1], 'timeout');
    await write(db.first, 'tB', 'b1');
    expect(threadsOf(await claimAll(db.first))).toEqual(['tB']);
  });
});
