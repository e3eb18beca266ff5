import { describe, expect, test } from 'bun:test';
import type { NewMessage } from '../../../src/storage/store.ts';
import { freshStore } from '../../support/db.ts';

function msg(overrides: Partial<NewMessage> = {}): NewMessage {
  const id = overrides.id ?? crypto.randomUUID();
  return {
    userId: 'u1',
    threadId: 't1',
    id,
    role: 'user',
    content: 'hello',
    ...overrides,
  };
}

describe('appendMessage', () => {
  test('two users racing 50 first writes each end with exactly one owner', async () => {
    await using db = freshStore();
    const writes = [];
    for (let i = 0; i < 50; i++) {
      writes.push(db.store.appendMessage(msg({ userId: 'u1', threadId: 'race' })));
      writes.push(db.store.appendMessage(msg({ userId: 'u2', threadId: 'race' })));
    }
    const results = await Promise.all(writes);
    const owner = await db.store.threadOwner('race');
    const okBy = (user: string) =>
      results.filter((r, i) => r.kind === 'ok' && (i % 2 === 0 ? 'u1' : 'u2') === user).length;
    const loser = owner === 'u1' ? 'u2' : 'u1';
    expect(okBy(owner!)).toBe(50);
    expect(okBy(loser)).toBe(0);
    expect(results.filter((r) => r.kind === 'forbidden_thread')).toHaveLength(50);
    const rows = await db.store.recentMessages('race', 1000);
    expect(new Set(rows.map((r) => r.userId))).toEqual(new Set([owner!]));
  });

  test('500 concurrent appends are all acked with distinct increasing seqs per user', async () => {
    await using db = freshStore();
    const users = ['a', 'b', 'c', 'd', 'e'];
    const inputs = Array.from({ length: 500 }, (_, i) =>
      msg({ userId: users[i % 5]!, threadId: `t-${users[i % 5]}`, content: `c${i}` }),
    );
    const results = await Promise.all(inputs.map((m) => db.store.appendMessage(m)));
    for (const user of users) {
      const seqs = results
        .filter((_, i) => inputs[i]!.userId === user)
        .map((r) => (r.kind === 'ok' ? r.seq : -1));
      // Submission order is commit order, so seqs are 1..100 in order.
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const rows = await db.store.recentMessages(`t-${user}`, 1000);
      expect(rows).toHaveLength(100);
      expect(rows.map((r) => r.seq)).toEqual(seqs);
    }
    expect(await db.store.outboxStats()).toEqual({ pending: 500, dead: 0, delivered: 0 });
  });

  test('a write that throws fails alone; the rest of its group commit', async () => {
    await using db = freshStore();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const good = [msg(), msg(), msg()];
    const results = await Promise.allSettled([
      db.store.appendMessage(good[0]!),
      db.store.appendMessage(msg({ metadata: cyclic })),
      db.store.appendMessage(good[1]!),
      db.store.appendMessage(good[2]!),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const rows = await db.store.recentMessages('t1', 10);
    expect(rows.map((r) => r.id)).toEqual(good.map((m) => m.id));
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
  });
});
