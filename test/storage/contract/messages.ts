/** Contract: the message log, dedupe, thread ownership and seq allocation across instances. */
import { describe, expect, test } from 'bun:test';
import type { AppendResult } from '../../../src/storage/store.ts';
import { committed, type MakeStore, msg } from './contract.ts';

/** Registers the message log cases. */
export function messagesContract(make: MakeStore): void {
  describe('appendMessage', () => {
    test('commits a message, owns the thread and takes the next seq', async () => {
      await using db = await make();
      expect(await db.store.appendMessage(msg())).toEqual(committed(1));
      expect(await db.store.appendMessage(msg())).toEqual(committed(2));
      expect(await db.store.threadOwner('t1')).toBe('u1');
      expect(await db.store.threadOwner('nobody')).toBeNull();
    });

    test('a resend with the same id returns the same seq and adds no row', async () => {
      await using db = await make();
      const first = msg();
      await db.store.appendMessage(first);
      await db.store.appendMessage(msg());
      expect(await db.store.appendMessage(first)).toEqual({ kind: 'ok', seq: 1, duplicate: true });
      expect(await db.store.recentMessages('t1', 10)).toHaveLength(2);
      expect(await db.store.outboxStats()).toEqual({ pending: 2, dead: 0, delivered: 0 });
      expect(await db.store.eventsSince('u1', 0, 10)).toMatchObject({ kind: 'ok' });
    });

    test('the same id sent at once to two instances is stored once', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const m = msg();
        const results = await Promise.all([
          db.store.appendMessage(m),
          second.appendMessage(m),
          db.store.appendMessage(m),
          second.appendMessage(m),
        ]);
        expect(results.filter((r) => r.kind === 'ok' && !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => (r.kind === 'ok' ? r.seq : -1)))).toEqual(new Set([1]));
        expect(await db.store.recentMessages('t1', 10)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    test('the same id in another thread is a conflict and writes nothing', async () => {
      await using db = await make();
      const first = msg();
      await db.store.appendMessage(first);
      expect(await db.store.appendMessage({ ...first, threadId: 't2' })).toEqual({
        kind: 'conflict',
      });
      expect(await db.store.threadOwner('t2')).toBeNull();
    });

    test('another user’s thread is forbidden and nothing is persisted', async () => {
      await using db = await make();
      await db.store.appendMessage(msg());
      expect(await db.store.appendMessage(msg({ userId: 'u2' }))).toEqual({
        kind: 'forbidden_thread',
      });
      expect(await db.store.recentMessages('t1', 10)).toHaveLength(1);
      expect(await db.store.eventsSince('u2', 0, 100)).toEqual({ kind: 'ok', events: [] });
    });

    test('two users racing first writes on two instances end with exactly one owner', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const writes: Array<Promise<AppendResult>> = [];
        for (let i = 0; i < 50; i++) {
          writes.push(db.store.appendMessage(msg({ userId: 'u1', threadId: 'race' })));
          writes.push(second.appendMessage(msg({ userId: 'u2', threadId: 'race' })));
        }
        const results = await Promise.all(writes);
        const owner = await db.store.threadOwner('race');
        const okBy = (user: string) =>
          results.filter((r, i) => r.kind === 'ok' && (i % 2 === 0 ? 'u1' : 'u2') === user).length;
        expect(okBy(owner!)).toBe(50);
        expect(okBy(owner === 'u1' ? 'u2' : 'u1')).toBe(0);
        expect(results.filter((r) => r.kind === 'forbidden_thread')).toHaveLength(50);
        const rows = await db.store.recentMessages('race', 1000);
        expect(new Set(rows.map((r) => r.userId))).toEqual(new Set([owner!]));
      } finally {
        await second.close();
      }
    });

    test('1,000 concurrent appends from two instances take seqs 1..1000 with no gap or dupe', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const stores = [db.store, second];
        const results = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            stores[i % 2]!.appendMessage(msg({ content: `c${i}` })),
          ),
        );
        const seqs = results.map((r) => (r.kind === 'ok' ? r.seq : -1)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
        const replay = await second.eventsSince('u1', 0, 5000);
        expect(replay.kind === 'ok' && replay.events.map((e) => e.seq)).toEqual(seqs);
        // Commit order within the thread is seq order: the log and the history agree.
        const rows = await db.store.recentMessages('t1', 5000);
        expect(rows.map((r) => r.seq)).toEqual(seqs);
      } finally {
        await second.close();
      }
    });

    test('stores content and metadata byte for byte', async () => {
      await using db = await make();
      const content = '  é\u0301 \u{1F600} \t\n<b>"x"</b> \u200b \\ \' ; -- ';
      const metadata = { nested: { a: [1, 'two', null] }, unicode: '\u{10FFFF}', z: 1, a: 2 };
      await db.store.appendMessage(msg({ content, metadata }));
      const [row] = await db.store.recentMessages('t1', 1);
      expect(row!.content).toBe(content);
      expect(row!.metadata).toEqual(metadata);
      expect(Object.keys(row!.metadata as object)).toEqual(['nested', 'unicode', 'z', 'a']);
    });

    test('recentMessages returns the last n, oldest first', async () => {
      await using db = await make();
      for (let i = 0; i < 5; i++) await db.store.appendMessage(msg({ content: `m${i}` }));
      const rows = await db.store.recentMessages('t1', 3);
      expect(rows.map((r) => r.content)).toEqual(['m2', 'm3', 'm4']);
      expect(rows.map((r) => r.seq)).toEqual([3, 4, 5]);
      expect(await db.store.recentMessages('t1', 0)).toEqual([]);
    });

    test('a write that throws fails alone; the others commit', async () => {
      await using db = await make();
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
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(good.map((m) => m.id)));
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(db.store.storageHealth()).toEqual({ ok: true });
    });
  });
}
