/**
 * A fresh migrated store per test: `await using db = freshStore()`; disposal closes the store and
 * removes its temp dir.
 */
import type { Clock } from '../../src/lib/clock.ts';
import { applyMigrations } from '../../src/storage/sqlite/migrations.ts';
import { openDatabase, type SqliteHandle } from '../../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../../src/storage/sqlite/store.ts';
import type { Store } from '../../src/storage/store.ts';
import { tempDir } from './temp.ts';

/** A migrated store in a temp dir, with its raw handle for tests that poke at SQLite. */
export interface FreshStore extends AsyncDisposable {
  readonly store: Store;
  readonly handle: SqliteHandle;
  /** The database file. */
  readonly path: string;
  /** The temp dir (for backup targets and the like). */
  readonly dir: string;
}

/** Opens and migrates a database in a new temp dir and builds the SQLite store over it. */
export function freshStore(options: { clock?: Clock } = {}): FreshStore {
  const dir = tempDir('lifeline-db');
  const path = dir.join('lifeline.db');
  const handle = openDatabase(path);
  applyMigrations(handle);
  const store = createSqliteStore(handle, { clock: options.clock });
  return {
    store,
    handle,
    path,
    dir: dir.path,
    async [Symbol.asyncDispose]() {
      await store.close();
      dir[Symbol.dispose]();
    },
  };
}
