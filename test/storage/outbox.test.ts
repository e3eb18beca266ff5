import { describe, expect, test } from 'bun:test';
import { freshStore } from '../support/db.ts';

type Db = ReturnType<typeof freshStore>;

async function write(db: Db, threadId: string, content: string, userId = 'u1'): Promise<string> {
  const id = crypto.randomUUID();
  await db.store.appendMessage({ userId, threadId, id, role: 'user', content, pushPayload: {} });
  return id;
}

function shape(batches: Awaited<ReturnType<Db['store']['claimBatch']>>) {
  return batches.map((b) => [b.threadId, b.messages.map((m) => m.content)]);
}

describe('outbox', () => {
  test('claims the oldest threads first, in commit order per thread, within the limits', async () => {
    await using db = freshStore();
    await write(db, 'tA', 'a1');
    await write(db, 'tB', 'b1');
    await write(db, 'tA', 'a2');
    await write(db, 'tC', 'c1');
    await write(db, 'tA', 'a3');
    const batches = await db.store.claimBatch({ maxThreads: 2, batchSize: 2 });
    expect(shape(batches)).toEqual([
      ['tA', ['a1', 'a2']],
      ['tB', ['b1']],
    ]);
    expect(batches[0]!.messages[0]).toMatchObject({
      state: 'pending',
      attempts: 0,
      lastError: null,
    });
  });

  test('skips threads already in flight', async () => {
    await using db = freshStore();
    await write(db, 'tA', 'a1');
    await write(db, 'tB', 'b1');
    const batches = await db.store.claimBatch({
      maxThreads: 4,
      batchSize: 10,
      excludeThreads: ['tA'],
    });
    expect(shape(batches)).toEqual([['tB', ['b1']]]);
  });

  test('delivered messages leave the outbox but stay in the log', async () => {
    await using db = freshStore();
    const a1 = await write(db, 'tA', 'a1');
    await write(db, 'tA', 'a2');
    await db.store.markDelivered([a1]);
    expect(shape(await db.store.claimBatch({ maxThreads: 4, batchSize: 10 }))).toEqual([
      ['tA', ['a2']],
    ]);
    expect(await db.store.outboxStats()).toEqual({ pending: 1, dead: 0, delivered: 1 });
    expect(await db.store.recentMessages('tA', 10)).toHaveLength(2);
  });

  test('a failed attempt is counted and the message stays pending', async () => {
    await using db = freshStore();
    const a1 = await write(db, 'tA', 'a1');
    await db.store.recordAttemptFailure([a1], 'timeout');
    await db.store.recordAttemptFailure([a1], 'HTTP 503');
    const [batch] = await db.store.claimBatch({ maxThreads: 1, batchSize: 1 });
    expect(batch!.messages[0]).toMatchObject({
      attempts: 2,
      lastError: 'HTTP 503',
      state: 'pending',
    });
  });

  test('dead letters keep their reason and are not claimed again', async () => {
    await using db = freshStore();
    const a1 = await write(db, 'tA', 'a1');
    const a2 = await write(db, 'tA', 'a2');
    await db.store.markDead([a1], 'HTTP 400 invalid message');
    expect(shape(await db.store.claimBatch({ maxThreads: 4, batchSize: 10 }))).toEqual([
      ['tA', ['a2']],
    ]);
    const dead = await db.store.deadLetters(10);
    expect(dead.map((m) => [m.id, m.state, m.lastError])).toEqual([
      [a1, 'dead', 'HTTP 400 invalid message'],
    ]);
    await db.store.markDelivered([a1, a2]);
    expect(await db.store.outboxStats()).toEqual({ pending: 0, dead: 1, delivered: 1 });
  });

  test('an empty id list and zero limits are no-ops', async () => {
    await using db = freshStore();
    await write(db, 'tA', 'a1');
    await db.store.markDelivered([]);
    expect(await db.store.claimBatch({ maxThreads: 0, batchSize: 10 })).toEqual([]);
    expect(await db.store.claimBatch({ maxThreads: 1, batchSize: 0 })).toEqual([]);
    expect(await db.store.outboxStats()).toEqual({ pending: 1, dead: 0, delivered: 0 });
  });
});
