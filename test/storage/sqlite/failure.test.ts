import { describe, expect, test } from 'bun:test';
import { LifelineError } from '../../../src/lib/errors.ts';
import { freshStore } from '../../support/db.ts';

type Db = ReturnType<typeof freshStore>;

function append(db: Db, content: string) {
  const id = crypto.randomUUID();
  return db.store.appendMessage({
    userId: 'u1',
    threadId: 't1',
    id,
    role: 'user',
    content,
  });
}

async function rejection(promise: Promise<unknown>): Promise<LifelineError> {
  try {
    await promise;
  } catch (error) {
    return error as LifelineError;
  }
  throw new Error('expected a rejection');
}

function fillDisk(db: Db): void {
  const { page_count } = db.handle.sqlite.query('PRAGMA page_count').get() as {
    page_count: number;
  };
  db.handle.sqlite.run(`PRAGMA max_page_count = ${page_count}`);
}

describe('storage failure', () => {
  test('a full disk rejects writes as unavailable, reads keep working, and a later write recovers', async () => {
    await using db = freshStore();
    await append(db, 'before');
    fillDisk(db);
    const big = 'x'.repeat(200_000);
    const results = await Promise.allSettled([append(db, big), append(db, big)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason as LifelineError;
      expect(error).toBeInstanceOf(LifelineError);
      expect(error.code).toBe('unavailable');
    }
    expect(db.store.storageHealth()).toEqual({
      ok: false,
      reason: expect.stringContaining('full'),
    });
    // docs/design.md#storage-failure: reads and rehydrate keep working.
    const snap = await db.store.readSnapshot('u1', ['t1'], 10);
    expect(snap.threads.t1!.messages.map((m) => m.content)).toEqual(['before']);
    expect(snap.seq).toBe(1);
    // Space comes back: the next successful write clears the flag.
    db.handle.sqlite.run('PRAGMA max_page_count = 1073741823');
    expect(await append(db, 'after')).toEqual({
      kind: 'ok',
      seq: 2,
      duplicate: false,
      message: expect.objectContaining({ content: 'after', seq: 2 }),
    });
    expect(db.store.storageHealth()).toEqual({ ok: true });
  });

  test('a read-only connection is reopened before the next write', async () => {
    await using db = freshStore();
    db.handle.sqlite.run('PRAGMA query_only = 1');
    const error = await rejection(db.store.appendEvent('u1', 'e', 1));
    expect(error.code).toBe('unavailable');
    expect(error.message).toContain('read-only');
    expect(db.store.storageHealth().ok).toBe(false);
    // query_only is per connection; the reopened connection writes again.
    expect(await db.store.appendEvent('u1', 'e', 2)).toBe(1);
    expect(db.store.storageHealth()).toEqual({ ok: true });
  });
});
