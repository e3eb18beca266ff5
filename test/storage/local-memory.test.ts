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
});
