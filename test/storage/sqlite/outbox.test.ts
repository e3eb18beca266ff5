import { describe, expect, test } from 'bun:test';
import { freshStore } from '../../support/db.ts';

type Db = ReturnType<typeof freshStore>;

async function write(db: Db, threadId: string, content: string, userId = 'u1'): Promise<string> {
  const id = crypto.randomUUID();
  await db.store.appendMessage({ userId, threadId, id, role: 'user', content });
  return id;
}

describe('outbox counts', () => {
  function counted(db: Db) {
    const rows = db.handle.sqlite
      .query('SELECT state, COUNT(*) AS n FROM messages GROUP BY state')
      .all() as Array<{ state: string; n: number }>;
    const stats = { pending: 0, dead: 0, delivered: 0 };
    for (const row of rows) stats[row.state as keyof typeof stats] = row.n;
    return stats;
  }

  test('the trigger-kept counters agree with a full count through every transition', async () => {
    await using db = freshStore();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await write(db, `t${i % 3}`, `m${i}`));
    await db.store.appendMessage({
      userId: 'u1',
      threadId: 't9',
      id: crypto.randomUUID(),
      role: 'user',
      content: 'delivered at commit',
      deliveredAtCommit: true,
    });
    await db.store.markDelivered(ids.slice(0, 4));
    await db.store.recordAttemptFailure(ids.slice(4, 6), 'timeout');
    await db.store.markDead(ids.slice(6, 7), 'HTTP 400');
    await db.store.deleteThreadMessages('t1');
    const stats = await db.store.outboxStats();
    expect(stats).toEqual(counted(db));
    expect(stats.delivered + stats.pending + stats.dead).toBe(13 - 4);
  });
});
