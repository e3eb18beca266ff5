import { describe, expect, test } from 'bun:test';
import { freshStore } from '../../support/db.ts';

async function write(
  db: ReturnType<typeof freshStore>,
  userId: string,
  threadId: string,
  content: string,
) {
  const id = crypto.randomUUID();
  return db.store.appendMessage({
    userId,
    threadId,
    id,
    role: 'user',
    content,
  });
}

describe('readSnapshot', () => {
  test('holds seq, preferences and each owned thread with its recent messages', async () => {
    await using db = freshStore();
    await db.store.setPreferences('u1', { theme: 'dark' });
    for (let i = 0; i < 4; i++) await write(db, 'u1', 't1', `m${i}`);
    const set = await db.store.setPersonalization('u1', 't1', { tone: 'brief' });
    expect(set).toEqual({ kind: 'ok', seq: 6 });
    const snap = await db.store.readSnapshot('u1', ['t1'], 2);
    expect(snap.seq).toBe(6);
    expect(snap.preferences).toEqual({ theme: 'dark' });
    expect(Object.keys(snap.threads)).toEqual(['t1']);
    expect(snap.threads.t1!.personalization).toEqual({ tone: 'brief' });
    expect(snap.threads.t1!.messages.map((m) => m.content)).toEqual(['m2', 'm3']);
  });

  test('leaves out threads of other users and threads nobody owns', async () => {
    await using db = freshStore();
    await write(db, 'u2', 'theirs', 'x');
    await write(db, 'u1', 'mine', 'y');
    const snap = await db.store.readSnapshot('u1', ['theirs', 'mine', 'unknown'], 20);
    expect(Object.keys(snap.threads)).toEqual(['mine']);
  });

  test('a new user gets seq 0, null preferences and no threads', async () => {
    await using db = freshStore();
    expect(await db.store.readSnapshot('nobody', [], 20)).toEqual({
      seq: 0,
      preferences: null,
      threads: {},
    });
  });

  test('personalization of another user’s thread is forbidden', async () => {
    await using db = freshStore();
    await write(db, 'u1', 't1', 'x');
    expect(await db.store.setPersonalization('u2', 't1', {})).toEqual({ kind: 'forbidden_thread' });
    const snap = await db.store.readSnapshot('u1', ['t1'], 20);
    expect(snap.threads.t1!.personalization).toBeNull();
  });

  test('the snapshot seq covers exactly the writes committed before it', async () => {
    await using db = freshStore();
    await write(db, 'u1', 't1', 'a');
    const pending = write(db, 'u1', 't1', 'b');
    const snap = await db.store.readSnapshot('u1', ['t1'], 20);
    await pending;
    expect(snap.seq).toBe(snap.threads.t1!.messages.at(-1)!.seq);
  });
});
