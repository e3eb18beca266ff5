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
});
