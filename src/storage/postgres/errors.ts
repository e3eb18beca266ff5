/**
 * @module PostgreSQL failure classification. Errors that mean "the database cannot be reached or
 * cannot take writes" (connection refused or closed, server shutting down or starting, disk full,
 * read-only standby, I/O error, login refused) become LifelineError `unavailable`
 * (docs/design.md#storage-failure); anything else (a bug, a constraint) passes through unchanged.
 */
import { LifelineError } from '../../lib/errors.ts';
import { type StorageFailure, storageUnavailable } from '../errors.ts';

/** Bun.SQL's own codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  'ERR_POSTGRES_CONNECTION_CLOSED',
  'ERR_POSTGRES_CONNECTION_FAILED',
  'ERR_POSTGRES_CONNECTION_REFUSED',
  'ERR_POSTGRES_CONNECTION_TIMEOUT',
  'ERR_POSTGRES_IDLE_TIMEOUT',
  'ERR_POSTGRES_LIFETIME_TIMEOUT',
  'ERR_POSTGRES_TLS_NOT_AVAILABLE',
  'ERR_POSTGRES_TLS_UPGRADE_FAILED',
]);

/** SQLSTATE prefixes (class or full code) that are storage failures, with a reason. */
const SQLSTATE_REASONS: ReadonlyArray<[prefix: string, reason: string]> = [
  ['08', 'the connection to PostgreSQL failed'],
  ['57P01', 'PostgreSQL is shutting down'],
  ['57P02', 'PostgreSQL is shutting down'],
  ['57P03', 'PostgreSQL is starting up or not accepting connections'],
  ['53100', 'the PostgreSQL disk is full'],
  ['53', 'PostgreSQL is out of resources'],
  ['25006', 'the PostgreSQL server is read-only (a standby?)'],
  ['58', 'PostgreSQL reported an I/O error'],
  ['XX001', 'PostgreSQL reported corrupted data'],
  ['XX002', 'PostgreSQL reported a corrupted index'],
  ['28', 'PostgreSQL refused the login'],
  ['3D000', 'the PostgreSQL database does not exist'],
];

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRY_STATES = new Set(['40001', '40P01', '23505']);

interface PgLikeError {
  code?: unknown;
  errno?: unknown;
}

/** Classifies a thrown error; null when it is not a storage failure. */
export function classifyPgError(error: unknown): StorageFailure | null {
  const { code, errno } = (error ?? {}) as PgLikeError;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
    return {
      reason: `the PostgreSQL server is unreachable (${code})`,
      sqliteCode: code,
      reopen: true,
    };
  }
  if (typeof errno === 'string') {
    for (const [prefix, reason] of SQLSTATE_REASONS) {
      if (errno.startsWith(prefix)) {
        return { reason: `${reason} (SQLSTATE ${errno})`, sqliteCode: errno, reopen: false };
      }
    }
  }
  return null;
}

/** True for a serialization failure, deadlock or unique race: run the transaction again. */
export function isRetryable(error: unknown): boolean {
  const { errno } = (error ?? {}) as PgLikeError;
  return typeof errno === 'string' && RETRY_STATES.has(errno);
}

/** The error a call rejects with when PostgreSQL fails; the client sees code `unavailable`. */
export function pgUnavailableError(failure: StorageFailure, cause: unknown): LifelineError {
  return storageUnavailable(
    failure,
    cause,
    'check that PostgreSQL is up and reachable from this host; service resumes by itself when it answers',
  );
}

/** The URL with any password replaced by `***`, for logs and check output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable PostgreSQL URL)';
  }
}

/** A failure of the storage itself (mapped to `unavailable`), not of one write. */
export function isStorageFailure(error: unknown): boolean {
  return error instanceof LifelineError && error.code === 'unavailable';
}
