/**
 * @module Opening the configured storage backend for `serve`: SQLite (one instance, the default)
 * or PostgreSQL (cluster mode, `storage.backend = "postgres"`). Both end as the same async
 * {@link Store}; what differs (the raw SQLite handle, the PostgreSQL side pool for cluster work)
 * is kept here so the rest of the daemon asks one object.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { PgHandle } from '../storage/postgres/open.ts';
import { applyMigrations } from '../storage/sqlite/migrations.ts';
import { openDatabase, type SqliteHandle } from '../storage/sqlite/open.ts';
import { createSqliteStore } from '../storage/sqlite/store.ts';
import type { Store } from '../storage/store.ts';
import { databasePath } from './config.ts';

/** Connections of the side pool (heartbeat, member list, gauges); the LISTEN has its own. */
const SIDE_POOL_SIZE = 2;

/** The opened, migrated backend. */
export type OpenedStorage =
  | {
      backend: 'sqlite';
      store: Store;
      handle: SqliteHandle;
      /** Rows in the replay history (the lifeline_history_events gauge). */
      historyCount(): Promise<number>;
      close(): Promise<void>;
    }
  | {
      backend: 'postgres';
      store: Store;
      /** A small pool of its own for cluster work: heartbeats, members, LISTEN, gauges. */
      side: PgHandle;
      /** storage.postgres.url with the password redacted. */
      label: string;
      historyCount(): Promise<number>;
      close(): Promise<void>;
    };

/** What {@link openStorage} needs. */
export interface OpenStorageInput {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** The cluster instance id; names the PostgreSQL connections (`application_name`). */
  instanceId: string;
}

/**
 * Opens and migrates the configured backend.
 * @throws LifelineError from the migrations (`db_newer_than_binary`, `migration_failed`) or
 * `unavailable` when PostgreSQL does not answer.
 */
export async function openStorage(input: OpenStorageInput): Promise<OpenedStorage> {
  const { config, logger, clock } = input;
  const url = config.storage.postgres.url;
  if (config.storage.backend !== 'postgres' || url === undefined) {
    const handle = openDatabase(databasePath(config));
    const migrated = applyMigrations(handle);
    if (migrated.applied.length > 0)
      logger.info('migrations applied', { applied: migrated.applied });
    const store = createSqliteStore(handle, { clock, logger });
    return {
      backend: 'sqlite',
      store,
      handle,
      historyCount: async () => {
        // The Store has no count of replay events; one count on the raw connection, per scrape.
        const row = handle.sqlite.query('SELECT count(*) AS n FROM history').get() as { n: number };
        return row.n;
      },
      close: () => store.close(),
    };
  }
  const applicationName = `lifeline/${input.instanceId}`.slice(0, 63);
  // The PostgreSQL modules load only in cluster mode: SQLite startup does not pay for them.
  const { openPgStore } = await import('../storage/postgres/connect.ts');
  const { redactUrl } = await import('../storage/postgres/errors.ts');
  const { openPgPool } = await import('../storage/postgres/open.ts');
  const opened = openPgStore(url, {
    logger,
    clock,
    applicationName,
    leaseHolder: input.instanceId,
  });
  try {
    const migrated = await opened.migrate();
    if (migrated.applied.length > 0)
      logger.info('migrations applied', { applied: migrated.applied });
  } catch (error) {
    await opened.close();
    throw error;
  }
  const side = openPgPool(url, redactUrl(url), { poolSize: SIDE_POOL_SIZE, applicationName });
  return {
    backend: 'postgres',
    store: opened.store,
    side,
    label: opened.label,
    historyCount: async () => {
      const [row] = await side.sql`SELECT count(*)::float8 AS n FROM history`;
      return (row as { n: number }).n;
    },
    close: async () => {
      await side.close(1);
      await opened.close();
    },
  };
}

/**
 * Runs `use` on the existing store without creating or migrating anything: undefined when the
 * SQLite file does not exist or the PostgreSQL database has no migrations applied yet. For
 * commands and checks that only read (overrides, the persisted circuit).
 */
export async function withExistingStore<T>(
  config: Config,
  use: (store: Store) => Promise<T>,
): Promise<T | undefined> {
  const url = config.storage.postgres.url;
  if (config.storage.backend === 'postgres' && url !== undefined) {
    const { openPgStore } = await import('../storage/postgres/connect.ts');
    const opened = openPgStore(url, { applicationName: 'lifeline-cli' });
    try {
      const status = await opened.status();
      if (status.applied.length === 0) return undefined;
      return await use(opened.store);
    } finally {
      await opened.close();
    }
  }
  const path = databasePath(config);
  if (!existsSync(path)) return undefined;
  const store = createSqliteStore(openDatabase(path));
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
