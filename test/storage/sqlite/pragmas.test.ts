import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { LifelineError } from '../../../src/lib/errors.ts';
import { openDatabase } from '../../../src/storage/sqlite/open.ts';
import { tempDir } from '../../support/temp.ts';

function pragma(handle: ReturnType<typeof openDatabase>, name: string): unknown {
  return Object.values(handle.sqlite.query(`PRAGMA ${name}`).get() as object)[0];
}

describe('openDatabase', () => {
  test('every new connection runs in WAL with synchronous=FULL, foreign keys and a busy timeout', () => {
    using dir = tempDir('pragmas');
    const path = dir.join('a.db');
    for (let i = 0; i < 2; i++) {
      const handle = openDatabase(path);
      expect(pragma(handle, 'journal_mode')).toBe('wal');
      expect(pragma(handle, 'synchronous')).toBe(2);
      expect(pragma(handle, 'foreign_keys')).toBe(1);
      expect(pragma(handle, 'busy_timeout')).toBe(5000);
      handle.close();
    }
  });

  test('reopen applies the pragmas to the new connection', () => {
    using dir = tempDir('pragmas');
    const handle = openDatabase(dir.join('a.db'));
    handle.sqlite.run('PRAGMA foreign_keys = OFF');
    handle.reopen();
    expect(pragma(handle, 'foreign_keys')).toBe(1);
    expect(pragma(handle, 'synchronous')).toBe(2);
    handle.close();
  });

  test('creates a missing parent directory', () => {
    using dir = tempDir('pragmas');
    const path = dir.join('nested', 'deeper', 'a.db');
    const handle = openDatabase(path);
    expect(existsSync(path)).toBe(true);
    handle.close();
  });

  test('close checkpoints the WAL so no -wal content is left', () => {
    using dir = tempDir('pragmas');
    const path = dir.join('a.db');
    const handle = openDatabase(path);
    handle.sqlite.run('CREATE TABLE t (x)');
    handle.sqlite.run('INSERT INTO t VALUES (1)');
    handle.close();
    handle.close();
    const wal = Bun.file(`${path}-wal`);
    expect(existsSync(`${path}-wal`) ? wal.size : 0).toBe(0);
  });

  test('an unopenable path fails with storage_open_failed and a fix', () => {
    using dir = tempDir('pragmas');
    // A directory where the file should be.
    let caught: unknown;
    try {
      openDatabase(dir.path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LifelineError);
    expect((caught as LifelineError).code).toBe('storage_open_failed');
  });
});
