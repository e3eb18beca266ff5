/**
 * @module What both engines mean by a storage failure: the storage itself cannot take the call
 * (disk full, I/O error, read-only, unreachable server), as opposed to a bug or a constraint. Each
 * engine classifies its own errors into a {@link StorageFailure} (sqlite/errors.ts,
 * postgres/errors.ts); the client sees code `unavailable` (docs/design.md#storage-failure).
 */
import { LifelineError } from '../lib/errors.ts';

/** What a storage failure means for the store. */
export interface StorageFailure {
  /** One line for /readyz and logs; no user content. */
  reason: string;
  /** The engine's code: the SQLite code (e.g. `SQLITE_IOERR_WRITE`), the SQLSTATE or Bun.SQL code. */
  sqliteCode: string;
  /** True when the connection may be wedged and should be reopened before the next write. */
  reopen: boolean;
}

/** The error a call rejects with when storage fails, with the engine's fix hint. */
export function storageUnavailable(
  failure: StorageFailure,
  cause: unknown,
  fix: string,
): LifelineError {
  return new LifelineError('unavailable', `storage is unavailable: ${failure.reason}`, {
    fix,
    cause,
  });
}
