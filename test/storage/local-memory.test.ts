import { describe, expect, test } from 'bun:test';
import { toFtsQuery } from '../../src/storage/sqlite-outbox.ts';
import { freshStore } from '../support/db.ts';

type Db = ReturnType<typeof freshStore>;

async function write(db: Db, threadId: string, content: string, userId = 'u1') {
  const id = crypto.randomUUID();
  await db.store.appendMessage({ userId, threadId, id, role: 'user', content, pushPayload: {} });
  return id;
}

describe('local memory search', () => {
  test('finds what was written in the thread, best match first', async () => {
    await using db = freshStore();
    await write(db, 't1', 'my favourite colour is blue');
    await write(db, 't1', 'the weather is nice');
    await write(db, 't1', 'blue blue sky and blue sea');
    await write(db, 't2', 'blue in another thread');
    const hits = await db.store.searchLocal('t1', 'Blue?', 10);
    expect(hits.map((h) => h.message.content)).toEqual([
      'blue blue sky and blue sea',
      'my favourite colour is blue',
    ]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  test('matches across accents and case', async () => {
    await using db = freshStore();
    await write(db, 't1', 'Café crème à Paris');
    expect(await db.store.searchLocal('t1', 'cafe CREME', 5)).toHaveLength(1);
  });

  test.each([
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
    '',
    '   ',
    '\u0000',
    '😀',
  ])('the hostile query %p does not throw', async (query) => {
    await using db = freshStore();
    await write(db, 't1', 'blue AND NEAR content');
    const hits = await db.store.searchLocal('t1', query, 5);
    expect(Array.isArray(hits)).toBe(true);
  });

  test('query words are quoted and OR-ed; text without words gives no query', () => {
    expect(toFtsQuery('Hello, "world" AND *x*')).toBe('"hello" OR "world" OR "and" OR "x"');
    expect(toFtsQuery('?! *')).toBeNull();
  });

  test('deleting a thread removes its messages from the log and the index', async () => {
    await using db = freshStore();
    await write(db, 't1', 'blue one');
    await write(db, 't1', 'blue two');
    await write(db, 't2', 'blue three');
    expect(await db.store.deleteThreadMessages('t1')).toBe(2);
    expect(await db.store.searchLocal('t1', 'blue', 10)).toEqual([]);
    expect(await db.store.recentMessages('t1', 10)).toEqual([]);
    expect(await db.store.searchLocal('t2', 'blue', 10)).toHaveLength(1);
    const check = db.handle.sqlite
      .query("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
      .run();
    expect(check.changes).toBeGreaterThanOrEqual(0);
  });
});
