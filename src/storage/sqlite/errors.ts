/**
 * @module Storage failure classification. SQLite result codes that mean "the storage itself is
 * failing" (disk full, I/O error, read-only, corruption) become LifelineError `unavailable`
 * (docs/design.md#storage-failure); anything else is a bug and is passed through unchanged.
 */
import type { LifelineError } from '../../lib/errors.ts';
import { type StorageFailure, storageUnavailable } from '../errors.ts';

const FAILURE_PREFIXES: ReadonlyArray<[prefix: string, reason: string, reopen: boolean]> = [
  ['SQLITE_FULL', 'the disk or database is full', false],
  ['SQLITE_IOERR', 'the disk reported an I/O error', true],
  ['SQLITE_READONLY', 'the database is read-only', true],
  ['SQLITE_CANTOPEN', 'the database file cannot be opened', true],
  ['SQLITE_CORRUPT', 'the database file is corrupt', true],
  ['SQLITE_NOTADB', 'the database file is not a database', true],
  ['SQLITE_BUSY', 'the database is locked by another process', false],
  ['SQLITE_NOMEM', 'SQLite ran out of memory', false],
  ['SQLITE_PROTOCOL', 'the WAL locking protocol failed', true],
];

/** Classifies a thrown error; null when it is not a storage failure. */
export function classifyStorageError(error: unknown): StorageFailure | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  for (const [prefix, reason, reopen] of FAILURE_PREFIXES) {
    if (code === prefix || code.startsWith(`${prefix}_`)) {
      return { reason: `${reason} (${code})`, sqliteCode: code, reopen };
    }
  }
  return null;
}

/** The error a write rejects with when storage fails; the client sees code `unavailable`. */
export function unavailableError(failure: StorageFailure, cause: unknown): LifelineError {
  return storageUnavailable(
    failure,
    cause,
    'free disk space or fix the disk/permissions; writes resume after the next successful commit',
  );
}
