import { describe, expect, test } from 'bun:test';
import { FakeClock } from '../support/clock.ts';
import { freshStore } from '../support/db.ts';

describe('history', () => {
  test('events since a seq come back in order with their payloads', async () => {
    await using db = freshStore();
    await db.store.appendEvent('u1', 'event', { n: 1 });
    await db.store.setPreferences('u1', { theme: 'dark' });
    await db.store.appendEvent('u1', 'memory', { status: 'write_only' });
    const result = await db.store.eventsSince('u1', 1, 300);
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.events.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [2, 'preferences', { preferences: { theme: 'dark' } }],
      [3, 'memory', { status: 'write_only' }],
    ]);
  });

  test('sequences are per user', async () => {
    await using db = freshStore();
    expect(await db.store.appendEvent('u1', 'e', 1)).toBe(1);
    expect(await db.store.appendEvent('u2', 'e', 1)).toBe(1);
    expect(await db.store.appendEvent('u1', 'e', 2)).toBe(2);
  });

  test('since the current seq is an empty replay', async () => {
    await using db = freshStore();
    await db.store.appendEvent('u1', 'e', null);
    expect(await db.store.eventsSince('u1', 1, 300)).toEqual({ kind: 'ok', events: [] });
    expect(await db.store.eventsSince('new-user', 0, 300)).toEqual({ kind: 'ok', events: [] });
  });

  test.each([
    ['ahead of the current seq', 5],
    ['negative', -1],
    ['not an integer', 1.5],
  ])('a since that is %s is gone', async (_name, since) => {
    await using db = freshStore();
    await db.store.appendEvent('u1', 'e', null);
    expect(await db.store.eventsSince('u1', since, 300)).toEqual({ kind: 'gone' });
  });

  test('a replay longer than maxEvents is gone', async () => {
    await using db = freshStore();
    for (let i = 0; i < 5; i++) await db.store.appendEvent('u1', 'e', i);
    expect(await db.store.eventsSince('u1', 0, 4)).toEqual({ kind: 'gone' });
    expect((await db.store.eventsSince('u1', 1, 4)).kind).toBe('ok');
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

  test('trimming by age drops events older than the ttl', async () => {
    const clock = new FakeClock();
    await using db = freshStore({ clock });
    await db.store.appendEvent('u1', 'e', 'old');
    clock.advance(60_000);
    await db.store.appendEvent('u1', 'e', 'new');
    expect(await db.store.trimHistory(1000, 30_000, clock.wallMs())).toBe(1);
    expect(await db.store.eventsSince('u1', 0, 300)).toEqual({ kind: 'gone' });
    const rest = await db.store.eventsSince('u1', 1, 300);
    expect(rest.kind === 'ok' && rest.events.map((e) => e.payload)).toEqual(['new']);
  });

  test('a message event carries the push payload given at append', async () => {
    await using db = freshStore();
    const id = crypto.randomUUID();
    const payload = { type: 'message', thread_id: 't1', id, content: 'hi' };
    await db.store.appendMessage({
      userId: 'u1',
      threadId: 't1',
      id,
      role: 'user',
      content: 'hi',
      pushPayload: payload,
    });
    const result = await db.store.eventsSince('u1', 0, 300);
    expect(result).toEqual({
      kind: 'ok',
      events: [{ seq: 1, type: 'message', payload, createdAtWallMs: expect.any(Number) }],
    });
  });
});
