/**
 * @module What the daemon needs to run on PostgreSQL (`storage.backend = "postgres"`): open the
 * pool, see and apply the embedded migrations, and get the {@link Store}.
 */
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { MigrationStatus } from '../migrations.ts';
import type { Store } from '../store.ts';
import { classifyPgError, pgUnavailableError, redactUrl } from './errors.ts';
import { applyPgMigrations, pgMigrationStatus } from './migrations.ts';
import { openPgPool } from './open.ts';
import { createPgStoreOver } from './store.ts';

/** Options for {@link openPgStore} and {@link createPgStore}. */
interface PgOpenOptions {
  logger?: Logger;
  clock?: Clock;
  /** Connections in this instance's pool (default 10). */
  poolSize?: number;
  /** How often an unhealthy store probes the server (default 1 s). */
  probeIntervalMs?: number;
  /** PostgreSQL `application_name`, e.g. `lifeline/<instance id>`. */
  applicationName?: string;
  /** Who holds this store's outbox leases (the instance id); default a random UUID. */
  leaseHolder?: string;
}

/** An opened (not necessarily migrated) PostgreSQL store. */
interface PgStoreHandle {
  /** The store; use it only after {@link migrate} (or a status with nothing pending). */
  readonly store: Store;
  /** The URL with its password redacted. */
  readonly label: string;
  /**
   * Applies pending migrations under an advisory lock.
   * @throws LifelineError `db_newer_than_binary` / `migration_failed`.
   */
  migrate(): Promise<{ applied: string[] }>;
  status(): Promise<MigrationStatus>;
  /** Closes the store and its pool. */
  close(): Promise<void>;
}

/** Connection-class failures become `unavailable`, as in the store. */
async function mapped<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    const failure = classifyPgError(error);
    throw failure === null ? error : pgUnavailableError(failure, error);
  }
}

/**
 * Opens a pool on `url` and the store over it. Connects lazily: nothing fails until the first call.
 * @throws LifelineError `storage_open_failed` when the URL is not a PostgreSQL URL.
 */
export function openPgStore(url: string, options: PgOpenOptions = {}): PgStoreHandle {
  const label = redactUrl(url);
  const handle = openPgPool(url, label, {
    poolSize: options.poolSize,
    applicationName: options.applicationName,
  });
  const store = createPgStoreOver(handle, {
    clock: options.clock,
    logger: options.logger,
    probeIntervalMs: options.probeIntervalMs,
    leaseHolder: options.leaseHolder,
  });
  return {
    store,
    label,
    migrate: () => mapped(applyPgMigrations(handle)),
    status: () => mapped(pgMigrationStatus(handle)),
    close: () => store.close(),
  };
}

/**
 * Opens, migrates and returns the store: one call for an instance that starts serving.
 * @throws LifelineError `db_newer_than_binary`, `migration_failed`, or `unavailable`-class
 * connection errors from the first query (the pool is closed then).
 */
export async function createPgStore(options: PgOpenOptions & { url: string }): Promise<Store> {
  const opened = openPgStore(options.url, options);
  try {
    await opened.migrate();
  } catch (error) {
    await opened.close();
    throw error;
  }
  return opened.store;
}
