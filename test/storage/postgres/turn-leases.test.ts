/**
 * PostgreSQL-only: the lease on a thread's assistant turns between instances (storage/turns.ts
 * `leaseTurns`). Several holders on one database (what several lifeline instances are): one holds
 * a thread's turns at a time until it releases or its lease lapses; the outbox's delivery lease on
 * the same thread is independent. The single-process case runs on both engines in contract/turns.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Clock } from '../../../src/lib/clock.ts';
import { createPgStore } from '../../../src/storage/postgres/connect.ts';
import { FakeClock } from '../../support/clock.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../../support/postgres.ts';
import { write } from '../contract/contract.ts';

let server: PgServer | undefined;

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

describe.skipIf(!postgresTestsEnabled('the PostgreSQL turn lease tests'))('turn leases', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('a held lease is refused to another holder until released', async () => {
    const clock = new FakeClock();
    await using db = await twoInstances(clock);
    await write(db.first, 'tA', 'hello');
    const until = clock.wallMs() + 15_000;
    expect(await db.first.leaseTurns('tA', 'A', until)).toBe(true);
    expect(await db.second.leaseTurns('tA', 'B', until)).toBe(false);
    expect(await db.first.leaseTurns('tA', 'A', until + 5_000)).toBe(true); // a renewal
    await db.second.releaseTurns('tA', 'B'); // not B's: changes nothing
    expect(await db.second.leaseTurns('tA', 'B', until)).toBe(false);
    await db.first.releaseTurns('tA', 'A');
    expect(await db.second.leaseTurns('tA', 'B', until)).toBe(true);
    expect(await db.first.leaseTurns('tA', 'A', until)).toBe(false);
  });

  test('a lapsed lease is taken over, and its old holder can neither renew nor release it', async () => {
    const clock = new FakeClock();
    await using db = await twoInstances(clock);
    await write(db.first, 'tA', 'hello');
    expect(await db.first.leaseTurns('tA', 'A', clock.wallMs() + 15_000)).toBe(true);
    clock.advance(14_999);
    expect(await db.second.leaseTurns('tA', 'B', clock.wallMs() + 15_000)).toBe(false);
    clock.advance(1);
    expect(await db.second.leaseTurns('tA', 'B', clock.wallMs() + 15_000)).toBe(true);
    expect(await db.first.leaseTurns('tA', 'A', clock.wallMs() + 15_000)).toBe(false);
    await db.first.releaseTurns('tA', 'A');
    expect(await db.first.leaseTurns('tA', 'A', clock.wallMs() + 15_000)).toBe(false);
  });

  test('holders racing for a free lease: exactly one gets it', async () => {
    await using db = await twoInstances();
    await write(db.first, 'tA', 'hello');
    const until = Date.now() + 15_000;
    const holders = Array.from({ length: 8 }, (_, i) => `h${i}`);
    const granted = await Promise.all(
      holders.map((h, i) => (i % 2 === 0 ? db.first : db.second).leaseTurns('tA', h, until)),
    );
    expect(granted.filter(Boolean)).toHaveLength(1);
  });

  test('the turn lease and the outbox delivery lease of a thread are independent', async () => {
    await using db = await twoInstances();
    await write(db.first, 'tA', 'hello');
    const claimed = await db.second.claimBatch({ maxThreads: 10, batchSize: 10, leaseMs: 10_000 });
    expect(claimed.map((b) => b.threadId)).toEqual(['tA']);
    expect(await db.first.leaseTurns('tA', 'A', Date.now() + 15_000)).toBe(true);
    await db.second.releaseLeases!(['tA']);
    expect(await db.second.leaseTurns('tA', 'B', Date.now() + 15_000)).toBe(false);
  });

  test('an unknown thread is never leased', async () => {
    await using db = await twoInstances();
    expect(await db.first.leaseTurns('nope', 'A', Date.now() + 15_000)).toBe(false);
  });
});
