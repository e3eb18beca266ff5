/**
 * Contract: appends submitted together (one event-loop turn — what the SQLite write queue and the
 * PostgreSQL group commit put in one transaction / statement) behave as if run one by one: one
 * user's appends in submission order (across users concurrent calls have no order to keep).
 */
import { describe, expect, test } from 'bun:test';
import type { AppendResult } from '../../../src/storage/store.ts';
import { committed, type MakeStore, msg, rejection } from './contract.ts';

const okSeqs = (results: AppendResult[]) =>
  results.map((r) => (r.kind === 'ok' && !r.duplicate ? r.seq : null));

/** Registers the group-commit cases. */
export function groupCommitContract(make: MakeStore): void {
  describe('appends submitted together', () => {
    test('messages of one user get seqs 1..n in submission order', async () => {
      await using db = await make();
      const messages = Array.from({ length: 40 }, (_, i) => msg({ content: `m${i}` }));
      const results = await Promise.all(messages.map((m) => db.store.appendMessage(m)));
      expect(okSeqs(results)).toEqual(messages.map((_, i) => i + 1));
      const recent = await db.store.recentMessages('t1', 100);
      expect(recent.map((m) => m.content)).toEqual(messages.map((m) => m.content));
    });

    test('a repeated id in the same turn is a duplicate of the first, with its seq', async () => {
      await using db = await make();
      const first = msg({ content: 'once' });
      const results = await Promise.all([
        db.store.appendMessage(first),
        db.store.appendMessage(msg({ content: 'other' })),
        db.store.appendMessage(first),
      ]);
      expect(results).toEqual([
        committed(1),
        committed(2),
        { kind: 'ok', seq: 1, duplicate: true },
      ]);
    });

    test('ownership, conflicts and a bad payload affect only their own append', async () => {
      await using db = await make();
      const taken = msg({ userId: 'u2', threadId: 't2' });
      expect(await db.store.appendMessage(taken)).toMatchObject({ seq: 1 });
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const settled = await Promise.allSettled([
        db.store.appendMessage(msg({ userId: 'u1', threadId: 't2' })),
        db.store.appendMessage(msg({ userId: 'u2', threadId: 't3', id: taken.id })),
        db.store.appendMessage(msg({ userId: 'u1', metadata: cyclic })),
        db.store.appendMessage(msg({ userId: 'u1' })),
        db.store.appendMessage(msg({ userId: 'u2', threadId: 't2' })),
      ]);
      const values = settled.map((s) => (s.status === 'fulfilled' ? s.value : 'rejected'));
      expect(values).toEqual([
        { kind: 'forbidden_thread' },
        { kind: 'conflict' },
        'rejected',
        committed(1),
        committed(2),
      ]);
      expect(db.store.storageHealth()).toEqual({ ok: true });
      expect(await db.store.threadOwner('t2')).toBe('u2');
      expect(await db.store.threadOwner('t3')).toBeNull();
    });

    test('events and messages of several users interleave without gaps', async () => {
      await using db = await make();
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 30; i++) {
        const user = `u${i % 3}`;
        calls.push(
          i % 2 === 0
            ? db.store.appendEvent(user, 'e', { i })
            : db.store.appendMessage(msg({ userId: user, threadId: `t-${user}` })),
        );
      }
      await Promise.all(calls);
      for (const user of ['u0', 'u1', 'u2']) {
        const replay = await db.store.eventsSince(user, 0, 100);
        expect(replay.kind).toBe('ok');
        if (replay.kind === 'ok')
          expect(replay.events.map((e) => e.seq)).toEqual(
            Array.from({ length: 10 }, (_, k) => k + 1),
          );
      }
    });

    test('an event that cannot be serialised fails alone', async () => {
      await using db = await make();
      const [a, bad, b] = [
        db.store.appendEvent('u1', 'e', 1),
        db.store.appendEvent('u1', 'e', 10n),
        db.store.appendEvent('u1', 'e', 2),
      ];
      expect(await rejection(bad)).toBeInstanceOf(TypeError);
      expect([await a, await b]).toEqual([1, 2]);
    });
  });
}
