/**
 * @module Opening the SQLite database. Every connection gets the same pragmas (WAL, synchronous=FULL,
 * foreign keys, busy timeout) so durability never depends on which code path opened the file.
 */
import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BunSQLiteDatabase, drizzle } from 'drizzle-orm/bun-sqlite';
import { LifelineError } from '../lib/errors.ts';
import * as schema from './schema.ts';

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The drizzle database type over lifeline's schema. */
export type DrizzleDb = BunSQLiteDatabase<typeof schema>;

/**
 * An open database: the raw bun:sqlite connection for hot paths and the drizzle wrapper for the
 * rest. `reopen()` swaps both in place, so holders of the handle keep working
 * (docs/design.md#storage-failure).
 */
export interface SqliteHandle {
  /** The file this handle opened. */
  readonly path: string;
  /** The raw connection; replaced by `reopen()`. */
  readonly sqlite: Database;
  /** The drizzle wrapper over `sqlite`; replaced by `reopen()`. */
  readonly db: DrizzleDb;
  /** Closes the current connection (best effort) and opens the file again with the same pragmas. */
  reopen(): void;
  /** Checkpoints the WAL (TRUNCATE) so `-wal` is emptied, then closes. Safe to call twice. */
  close(): void;
}

/** Applies lifeline's pragmas to a fresh connection. */
export function applyPragmas(sqlite: Database): void {
  sqlite.run('PRAGMA journal_mode = WAL');
  // docs/design.md#memory: an acknowledged message survives power loss, so every commit is fsynced.
  sqlite.run('PRAGMA synchronous = FULL');
  sqlite.run('PRAGMA foreign_keys = ON');
  sqlite.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

function connect(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { create: true, strict: true });
  try {
    applyPragmas(sqlite);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}

/**
 * Opens (creating if missing, parent directory included) the database at `path`.
 * @throws LifelineError `storage_open_failed` when the file cannot be opened or configured.
 */
export function openDatabase(path: string): SqliteHandle {
  let sqlite: Database;
  try {
    sqlite = connect(path);
  } catch (error) {
    throw new LifelineError('storage_open_failed', `cannot open the database at ${path}`, {
      fix: 'check that the data directory exists, is writable by the service user, and the disk is not full',
      cause: error,
    });
  }
  let db = drizzle({ client: sqlite, schema });
  let closed = false;
  return {
    path,
    get sqlite() {
      return sqlite;
    },
    get db() {
      return db;
    },
    reopen() {
      try {
        sqlite.close();
      } catch {
        // The old connection may be wedged after an I/O error; the new one replaces it anyway.
      }
      sqlite = connect(path);
      db = drizzle({ client: sqlite, schema });
      closed = false;
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        sqlite.run('PRAGMA wal_checkpoint(TRUNCATE)');
      } finally {
        sqlite.close();
      }
    },
  };
}
