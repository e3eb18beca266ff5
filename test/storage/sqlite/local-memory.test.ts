import { describe, expect, test } from 'bun:test';
import { toFtsQuery } from '../../../src/storage/sqlite/outbox.ts';

// Search results, accents and hostile queries are in the store contract (test/storage/contract/),
// which runs on SQLite too; this file keeps the SQLite-only query builder.
describe('local memory search', () => {
  test('query words are quoted and OR-ed; text without words gives no query', () => {
    expect(toFtsQuery('Hello, "world" AND *x*')).toBe('"hello" OR "world" OR "and" OR "x"');
    expect(toFtsQuery('?! *')).toBeNull();
  });
});
