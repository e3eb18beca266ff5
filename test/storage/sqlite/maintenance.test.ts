import { describe, expect, test } from 'bun:test';
import type { LifelineError } from '../../../src/lib/errors.ts';
import { openDatabase } from '../../../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/store.ts';
import { freshStore } from '../../support/db.ts';

describe('maintenance', () => {
  test('the epoch is stable across reopen', async () => {
    await using db = freshStore();
    const epoch = await db.store.epoch();
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    db.handle.reopen();
    expect(await db.store.epoch()).toBe(epoch);
  });

  test('a backup holds every acked write, passes integrity_check and has a new epoch', async () => {
    await using db = freshStore();
    const id = crypto.randomUUID();
    const acked = db.store.appendMessage({
      userId: 'u1',
      threadId: 't1',
      id,
      role: 'user',
      content: 'keep me',
    });
    const target = `${db.dir}/backups/copy.db`;
    await db.store.backupTo(target);
    await acked;
    const copy = createSqliteStore(openDatabase(target));
    try {
      expect((await copy.integrityCheck()).ok).toBe(true);
      expect(await copy.epoch()).not.toBe(await db.store.epoch());
      expect(await copy.epoch()).toMatch(/^[0-9a-f]{32}$/);
      expect((await copy.recentMessages('t1', 5)).map((m) => m.id)).toEqual([id]);
      expect(await copy.searchLocal('t1', 'keep', 5)).toHaveLength(1);
      expect(await copy.journalMode()).toBe('wal');
    } finally {
      await copy.close();
    }
  });

  test('a backup never overwrites an existing file', async () => {
    await using db = freshStore();
    let caught: unknown;
    try {
      await db.store.backupTo(db.path);
    } catch (error) {
      caught = error;
    }
    expect((caught as LifelineError).code).toBe('backup_target_exists');
  });

  test('the probe reports a read-only connection', async () => {
    await using db = freshStore();
    db.handle.sqlite.run('PRAGMA query_only = 1');
    const probe = await db.store.probeWrite();
    expect(probe.ok).toBe(false);
    expect(db.handle.sqlite.inTransaction).toBe(false);
  });

  test('close waits for queued writes', async () => {
    const db = freshStore();
    const write = db.store.appendEvent('u1', 'e', 1);
    await db.store.close();
    expect(await write).toBe(1);
    const late = await db.store.appendEvent('u1', 'e', 2).catch((e: LifelineError) => e.code);
    expect(late).toBe('unavailable');
    const again = createSqliteStore(openDatabase(db.path));
    expect(await again.eventsSince('u1', 0, 10)).toMatchObject({ kind: 'ok' });
    await again.close();
    await db[Symbol.asyncDispose]();
  });
});
