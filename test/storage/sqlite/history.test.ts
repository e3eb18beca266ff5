import { describe, expect, test } from 'bun:test';
import { freshStore } from '../../support/db.ts';

describe('history', () => {
  test.each([
    ['ahead of the current seq', 5],
    ['negative', -1],
    ['not an integer', 1.5],
  ])('a since that is %s is gone', async (_name, since) => {
    await using db = freshStore();
    await db.store.appendEvent('u1', 'e', null);
    expect(await db.store.eventsSince('u1', since, 300)).toEqual({ kind: 'gone' });
  });

  test('trimming by count keeps the newest events per user; older since is gone', async () => {
    await using db = freshStore();
    for (let i = 0; i < 10; i++) await db.store.appendEvent('u1', 'e', i);
    for (let i = 0; i < 3; i++) await db.store.appendEvent('u2', 'e', i);
    expect(await db.store.trimHistory(4, 86_400_000, Date.now())).toBe(6);
    expect(await db.store.eventsSince('u1', 5, 300)).toEqual({ kind: 'gone' });
    const kept = await db.store.eventsSince('u1', 6, 300);
    expect(kept.kind === 'ok' && kept.events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
    expect((await db.store.eventsSince('u2', 0, 300)).kind).toBe('ok');
  });
});
