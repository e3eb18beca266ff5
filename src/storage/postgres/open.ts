/**
 * @module Opening a PostgreSQL connection pool (cluster mode, docs/design.md#operations): Bun's
 * built-in `Bun.SQL` with drizzle's bun-sql driver over it. The pool connects lazily; nothing here
 * touches the server.
 */
import { SQL } from 'bun';
import { type BunSQLDatabase, drizzle } from 'drizzle-orm/bun-sql';
import { LifelineError } from '../../lib/errors.ts';
import * as schema from './schema.ts';

/** The drizzle database type over the PostgreSQL schema. */
export type PgDb = BunSQLDatabase<typeof schema>;

/** Default connections per pool; one instance's writes run concurrently on these. */
const DEFAULT_POOL_SIZE = 10;
/** Seconds to wait for a connection before the call fails `unavailable`. */
const CONNECT_TIMEOUT_S = 5;

/** An open pool and the drizzle wrapper over it. */
export interface PgHandle {
  /** The URL with its password redacted, for logs. */
  readonly label: string;
  readonly sql: SQL;
  readonly db: PgDb;
  /** Waits up to `timeoutS` for running queries, then closes every connection. Safe twice. */
  close(timeoutS?: number): Promise<void>;
}

/** Options for {@link openPgPool}. */
interface PgPoolOptions {
  poolSize?: number;
  /** PostgreSQL `application_name`, shown in pg_stat_activity. */
  applicationName?: string;
}

/**
 * Builds the pool for `url` (postgres:// or postgresql://).
 * @throws LifelineError `storage_open_failed` when the URL is not a PostgreSQL URL.
 */
export function openPgPool(url: string, label: string, options: PgPoolOptions = {}): PgHandle {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new LifelineError('storage_open_failed', `not a PostgreSQL URL: ${label}`, {
      fix: 'set storage.postgres.url to postgres://user:password@host:5432/database',
    });
  }
  const sql = new SQL({
    url,
    adapter: 'postgres',
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeout: CONNECT_TIMEOUT_S,
    idleTimeout: 60,
    connection: { application_name: options.applicationName ?? 'lifeline' },
  });
  const db = drizzle({ client: sql, schema });
  let closed = false;
  return {
    label,
    sql,
    db,
    async close(timeoutS = 5) {
      if (closed) return;
      closed = true;
      await sql.close({ timeout: timeoutS });
    },
  };
}
