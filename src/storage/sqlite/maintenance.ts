/**
 * @module SQLite: epoch, backup, consistency checks and the write probe used by preflight and
 * /readyz. Synchronous helpers; the store wraps them in promises.
 */
import type { Database } from 'bun:sqlite';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeError, LifelineError } from '../../lib/errors.ts';
import type { CheckOutcome, StorageHealth } from '../store.ts';
import { createPrivateFile, openDatabase, PRIVATE_DIR_MODE } from './open.ts';

/** Most problems a consistency check reports. */
const MAX_CHECK_PROBLEMS = 10;

/** A fresh random epoch: 32 hex characters, the same form the first migration makes. */
function newEpoch(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The database's epoch.
 * @throws LifelineError `storage_not_migrated` when the meta row is missing.
 */
export function readEpoch(sqlite: Database): string {
  const row = sqlite.query("SELECT value FROM meta WHERE key = 'epoch'").get() as {
    value: string;
  } | null;
  if (row === null) {
    throw new LifelineError('storage_not_migrated', 'the database has no epoch', {
      fix: 'run `lifeline migrate`',
    });
  }
  return row.value;
}

/**
 * Writes a consistent copy with VACUUM INTO, then gives the copy a new epoch so clients of the
 * original can never resume against a restored copy (docs/design.md#epochs).
 * @throws LifelineError `backup_target_exists` when `path` exists.
 */
export function vacuumInto(sqlite: Database, path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  // The copy holds the development key too: created empty and 0600 first (VACUUM INTO accepts
  // an empty file), which also makes "never overwrite" atomic.
  if (existsSync(path) || !createPrivateFile(path)) {
    throw new LifelineError('backup_target_exists', `the backup target ${path} already exists`, {
      fix: 'choose a new file name; a backup never overwrites a file',
    });
  }
  try {
    sqlite.query('VACUUM INTO ?').run(path);
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  }
  const copy = openDatabase(path);
  try {
    copy.sqlite.query("UPDATE meta SET value = ? WHERE key = 'epoch'").run(newEpoch());
  } finally {
    copy.close();
  }
}

/** Runs `PRAGMA quick_check` or `integrity_check`. */
export function runCheck(
  sqlite: Database,
  pragma: 'quick_check' | 'integrity_check',
): CheckOutcome {
  const rows = sqlite.query(`PRAGMA ${pragma}(${MAX_CHECK_PROBLEMS})`).values() as string[][];
  const lines = rows.map((r) => String(r[0]));
  const ok = lines.length === 1 && lines[0] === 'ok';
  return { ok, problems: ok ? [] : lines };
}

/** Takes the write lock, writes a probe row, rolls back. Nothing is committed. */
export function probeWriteLock(sqlite: Database): StorageHealth {
  try {
    sqlite.run('BEGIN IMMEDIATE');
    try {
      sqlite.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_probe', ?)").run('x');
    } finally {
      if (sqlite.inTransaction) sqlite.run('ROLLBACK');
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: describeError(error) };
  }
}

/** The connection's journal mode (`wal` expected). */
export function readJournalMode(sqlite: Database): string {
  const row = sqlite.query('PRAGMA journal_mode').get() as { journal_mode: string };
  return row.journal_mode;
}
