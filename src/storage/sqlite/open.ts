/**
 * @module Opening the SQLite database. Every connection gets the same pragmas (WAL, synchronous=FULL,
 * foreign keys, busy timeout) so durability never depends on which code path opened the file.
 * The database holds the development signing key, so its directory is created 0700 and the file
 * and its -wal and -shm companions are kept 0600 whatever the umask (docs/decisions.md "Data
 * directory and database file modes").
 */
import { Database } from 'bun:sqlite';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type BunSQLiteDatabase, drizzle } from 'drizzle-orm/bun-sqlite';
import { LifelineError } from '../../lib/errors.ts';
import * as schema from './schema.ts';

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

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
function applyPragmas(sqlite: Database): void {
  sqlite.run('PRAGMA journal_mode = WAL');
  // docs/design.md#memory: an acknowledged message survives power loss, so every commit is fsynced.
  sqlite.run('PRAGMA synchronous = FULL');
  sqlite.run('PRAGMA foreign_keys = ON');
  sqlite.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/** Mode of a directory lifeline creates for the database (owner only). */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of the database file and its -wal and -shm companions (owner read and write). */
const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `path` as an empty file with mode 0600 (the umask cannot widen or narrow it).
 * @returns false when the file already exists (left untouched).
 */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
      PRIVATE_FILE_MODE,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes group and other permissions off an existing file this user owns (an older lifeline, or
 * a restored copy, left it 0644); the owner's bits stay, so a read-only file stays read-only.
 */
function tightenFile(path: string): void {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch {
    return;
  }
  if ((info.mode & 0o077) === 0 || info.uid !== process.getuid?.()) return;
  try {
    chmodSync(path, info.mode & 0o700);
  } catch {
    // Not fatal: preflight's data dir check reports what it can see.
  }
}

/** The data dir (0700 when created here) and a 0600 database file, before SQLite opens it. */
function preparePrivateFiles(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  // SQLite creates the file 0644 less the umask, and gives -wal and -shm the file's mode.
  if (!createPrivateFile(path)) tightenFile(path);
  tightenFile(`${path}-wal`);
  tightenFile(`${path}-shm`);
}

function connect(path: string): Database {
  if (path !== ':memory:') preparePrivateFiles(path);
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

/**
 * The connections of one start, one per file: the config's stored overrides, the database,
 * migrations and memory checks, and finally the store all use the same connection instead of
 * each opening, configuring and checkpointing its own (docs/benchmarks.md, "Startup and the
 * connect path"). A borrowed handle's `close()` does nothing; {@link adopt} hands the connection
 * to its last user, which closes it; {@link close} closes whatever was not adopted.
 */
export class SharedConnections {
  private readonly handles = new Map<string, SqliteHandle>();

  /**
   * The connection to `path`, opened on first use; closing it is left to the owner.
   * @throws LifelineError `storage_open_failed` as {@link openDatabase} (nothing is kept then).
   */
  borrow(path: string): SqliteHandle {
    let handle = this.handles.get(path);
    if (handle === undefined) {
      handle = openDatabase(path);
      this.handles.set(path, handle);
    }
    const shared = handle;
    return {
      path,
      get sqlite() {
        return shared.sqlite;
      },
      get db() {
        return shared.db;
      },
      reopen: () => shared.reopen(),
      close: () => undefined,
    };
  }

  /** Takes the connection to `path` over (opening it if none is shared); the caller closes it. */
  adopt(path: string): SqliteHandle {
    const handle = this.handles.get(path);
    if (handle === undefined) return openDatabase(path);
    this.handles.delete(path);
    return handle;
  }

  /** Closes every connection not adopted. Safe to call twice. */
  close(): void {
    for (const handle of this.handles.values()) {
      try {
        handle.close();
      } catch {
        // Best effort: a connection a check found broken may not checkpoint.
      }
    }
    this.handles.clear();
  }
}
