/** Contract: outbox claim order and state transitions, and local-memory search. */
import { describe, expect, test } from 'bun:test';
import type { OutboxBatch } from '../../../src/storage/store.ts';
import { type MakeStore, write } from './contract.ts';

function shape(batches: OutboxBatch[]) {
  return batches.map((b) => [b.threadId, b.messages.map((m) => m.content)]);
}

/** Registers the outbox and search cases. */
export function outboxContract(make: MakeStore): void {
  describe('outbox', () => {
    test('claims the oldest threads first, in commit order per thread, within the limits', async () => {
      await using db = await make();
      await write(db.store, 'tA', 'a1');
      await write(db.store, 'tB', 'b1');
      await write(db.store, 'tA', 'a2');
      await write(db.store, 'tC', 'c1');
      await write(db.store, 'tA', 'a3');
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
      await using db = await make();
      await write(db.store, 'tA', 'a1');
      await write(db.store, 'tB', 'b1');
      const batches = await db.store.claimBatch({
        maxThreads: 4,
        batchSize: 10,
        excludeThreads: new Set(['tA']),
      });
      expect(shape(batches)).toEqual([['tB', ['b1']]]);
    });

    test('delivered messages leave the outbox but stay in the log', async () => {
      await using db = await make();
      const a1 = await write(db.store, 'tA', 'a1');
      await write(db.store, 'tA', 'a2');
      await db.store.markDelivered([a1]);
      expect(shape(await db.store.claimBatch({ maxThreads: 4, batchSize: 10 }))).toEqual([
        ['tA', ['a2']],
      ]);
      expect(await db.store.outboxStats()).toEqual({ pending: 1, dead: 0, delivered: 1 });
      expect(await db.store.recentMessages('tA', 10)).toHaveLength(2);
    });

    test('a failed attempt is counted and the message stays pending', async () => {
      await using db = await make();
      const a1 = await write(db.store, 'tA', 'a1');
      await db.store.recordAttemptFailure([a1], 'timeout');
      await db.store.recordAttemptFailure([a1], 'HTTP 503');
      const [batch] = await db.store.claimBatch({ maxThreads: 1, batchSize: 1 });
      expect(batch!.messages[0]).toMatchObject({
        attempts: 2,
        lastError: 'HTTP 503',
        state: 'pending',
      });
    });

    test('dead letters keep their reason, are not claimed again, and never come back', async () => {
      await using db = await make();
      const a1 = await write(db.store, 'tA', 'a1');
      const a2 = await write(db.store, 'tA', 'a2');
      await db.store.markDead([a1], 'HTTP 400 invalid message');
      expect(shape(await db.store.claimBatch({ maxThreads: 4, batchSize: 10 }))).toEqual([
        ['tA', ['a2']],
      ]);
      const dead = await db.store.deadLetters(10);
      expect(dead.map((m) => [m.id, m.state, m.lastError])).toEqual([
        [a1, 'dead', 'HTTP 400 invalid message'],
      ]);
      await db.store.markDelivered([a1, a2]);
      await db.store.recordAttemptFailure([a1, a2], 'late');
      expect(await db.store.outboxStats()).toEqual({ pending: 0, dead: 1, delivered: 1 });
    });

    test('a delivery marked on one instance is seen by the other', async () => {
      await using db = await make();
      const second = await db.openSecond();
      try {
        const a1 = await write(db.store, 'tA', 'a1');
        await second.markDelivered([a1]);
        expect(await db.store.claimBatch({ maxThreads: 4, batchSize: 10 })).toEqual([]);
      } finally {
        await second.close();
      }
    });

    test('an empty id list and zero limits are no-ops', async () => {
      await using db = await make();
      await write(db.store, 'tA', 'a1');
      await db.store.markDelivered([]);
      await db.store.markDead([], 'x');
      expect(await db.store.claimBatch({ maxThreads: 0, batchSize: 10 })).toEqual([]);
      expect(await db.store.claimBatch({ maxThreads: 1, batchSize: 0 })).toEqual([]);
      expect(await db.store.outboxStats()).toEqual({ pending: 1, dead: 0, delivered: 0 });
    });
  });

  describe('local memory search', () => {
    test('finds what was written in the thread, best match first', async () => {
      await using db = await make();
      await write(db.store, 't1', 'my favourite colour is blue');
      await write(db.store, 't1', 'the weather is nice');
      await write(db.store, 't1', 'blue blue sky and blue sea');
      await write(db.store, 't2', 'blue in another thread');
      const hits = await db.store.searchLocal('t1', 'Blue?', 10);
      expect(hits.map((h) => h.message.content)).toEqual([
        'blue blue sky and blue sea',
        'my favourite colour is blue',
      ]);
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      expect(await db.store.searchLocal('t1', 'Blue', 1)).toHaveLength(1);
    });

    test('any word of the query matches, across accents and case', async () => {
      await using db = await make();
      await write(db.store, 't1', 'Café crème à Paris');
      await write(db.store, 't1', 'nothing here');
      expect(await db.store.searchLocal('t1', 'cafe CREME', 5)).toHaveLength(1);
      expect(await db.store.searchLocal('t1', 'zzz paris', 5)).toHaveLength(1);
      expect(await db.store.searchLocal('t1', 'zzz', 5)).toEqual([]);
    });

    const hostile = [
      '"',
      'AND',
      'OR NOT',
      '*',
      'NEAR(',
      'NEAR(a b, 2)',
      'blue*',
      '-blue',
      '^blue',
      'content:blue',
      '{content}: x',
      '"unterminated',
      "'); DROP TABLE messages; --",
      "it's",
      'a & b | !c <-> d:*',
      '\\',
      '',
      '   ',
      '\u0000',
      '😀',
      'x'.repeat(5000),
      `${'a '.repeat(100)}`,
    ].map((q) => [q.length > 40 ? `${q.slice(0, 8)}… (${q.length} chars)` : JSON.stringify(q), q]);
    test.each(hostile)('the hostile query %s does not throw', async (_label, query) => {
      await using db = await make();
      await write(db.store, 't1', 'blue AND NEAR content it s');
      const hits = await db.store.searchLocal('t1', query, 5);
      expect(Array.isArray(hits)).toBe(true);
      expect(await db.store.recentMessages('t1', 5)).toHaveLength(1);
    });

    test('deleting a thread removes its messages from the log and the index', async () => {
      await using db = await make();
      await write(db.store, 't1', 'blue one');
      await write(db.store, 't1', 'blue two');
      await write(db.store, 't2', 'blue three');
      expect(await db.store.deleteThreadMessages('t1')).toBe(2);
      expect(await db.store.searchLocal('t1', 'blue', 10)).toEqual([]);
      expect(await db.store.recentMessages('t1', 10)).toEqual([]);
      expect(await db.store.searchLocal('t2', 'blue', 10)).toHaveLength(1);
    });
  });
}
