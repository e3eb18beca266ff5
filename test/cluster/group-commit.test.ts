/**
 * Group commit of PostgreSQL appends (storage/postgres/batch.ts): the batching rules with a scripted
 * runner, and on a real server a row the database refuses inside a shared statement.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { LifelineError } from '../../src/lib/errors.ts';
import {
  GroupCommit,
  type GroupCommitRunner,
  inLockOrder,
} from '../../src/storage/postgres/batch.ts';
import { createPgStore } from '../../src/storage/postgres/connect.ts';
import { msg } from '../storage/contract/contract.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../support/postgres.ts';

/** A runner that records its calls; `failBatch` decides how a batch fails. */
function scripted(failBatch?: () => unknown) {
  const calls: Array<{ kind: 'batch' | 'one'; items: number[] }> = [];
  const runner: GroupCommitRunner<number, number> = {
    async runBatch(items) {
      calls.push({ kind: 'batch', items });
      if (failBatch) throw failBatch();
      return items.map((i) => i * 10);
    },
    async runOne(item) {
      calls.push({ kind: 'one', items: [item] });
      if (item < 0) throw new RangeError('negative');
      return item * 10;
    },
    isStorageFailure: (error) => error instanceof LifelineError,
  };
  return { calls, runner };
}

describe('GroupCommit', () => {
  test('items submitted in one turn share one batch; results keep their order', async () => {
    const { calls, runner } = scripted();
    const group = new GroupCommit(runner);
    expect(await Promise.all([1, 2, 3].map((i) => group.submit(i)))).toEqual([10, 20, 30]);
    expect(calls).toEqual([{ kind: 'batch', items: [1, 2, 3] }]);
  });

  test('a lone item runs alone; a batch is cut at the maximum size', async () => {
    const { calls, runner } = scripted();
    const group = new GroupCommit(runner, 2);
    await group.submit(7);
    await Promise.all([1, 2, 3].map((i) => group.submit(i)));
    expect(calls).toEqual([
      { kind: 'one', items: [7] },
      { kind: 'batch', items: [1, 2] },
      { kind: 'one', items: [3] },
    ]);
  });

  test('a batch broken by one item runs each alone: only that one fails', async () => {
    const { calls, runner } = scripted(() => new Error('row refused'));
    const group = new GroupCommit(runner);
    const settled = await Promise.allSettled([1, -1, 2].map((i) => group.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls.filter((c) => c.kind === 'one')).toHaveLength(3);
  });

  test('a storage failure fails the whole batch without running anything again', async () => {
    const failure = new LifelineError('unavailable', 'down');
    const { calls, runner } = scripted(() => failure);
    const group = new GroupCommit(runner);
    const settled = await Promise.allSettled([1, 2].map((i) => group.submit(i)));
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    expect(calls).toHaveLength(1);
  });

  test('inLockOrder runs in key order (stable) and answers in input order', async () => {
    const seen: string[][] = [];
    const results = await inLockOrder(
      ['b1', 'a1', 'b2', 'a2'],
      (s) => s[0]!,
      async (sorted) => {
        seen.push(sorted);
        return sorted.map((s) => s.toUpperCase());
      },
    );
    expect(seen).toEqual([['a1', 'a2', 'b1', 'b2']]);
    expect(results).toEqual(['B1', 'A1', 'B2', 'A2']);
  });
});

let server: PgServer | undefined;

describe.skipIf(!postgresTestsEnabled('the PostgreSQL group commit tests'))(
  'PostgreSQL group commit',
  () => {
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => {
      await server?.stop();
    });

    test('a message PostgreSQL refuses (a NUL) fails alone; the others of its turn commit', async () => {
      const name = databaseName('gc');
      const url = await server!.createDatabase(name);
      const store = await createPgStore({ url, poolSize: 2 });
      try {
        const settled = await Promise.allSettled([
          store.appendMessage(msg({ content: 'first' })),
          store.appendMessage(msg({ content: 'bad \u0000 byte' })),
          store.appendMessage(msg({ content: 'second' })),
        ]);
        expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(settled[0]).toEqual({
          status: 'fulfilled',
          value: {
            kind: 'ok',
            seq: 1,
            duplicate: false,
            message: expect.objectContaining({ seq: 1 }),
          },
        });
        expect(settled[2]).toEqual({
          status: 'fulfilled',
          value: {
            kind: 'ok',
            seq: 2,
            duplicate: false,
            message: expect.objectContaining({ seq: 2 }),
          },
        });
        expect(store.storageHealth()).toEqual({ ok: true });
        const recent = await store.recentMessages('t1', 10);
        expect(recent.map((m) => m.content)).toEqual(['first', 'second']);
      } finally {
        await store.close();
        await server!.dropDatabase(name);
      }
    });
  },
);
