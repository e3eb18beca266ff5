/**
 * @module Choosing the storage engine: SQLite (one instance, the default) or PostgreSQL (cluster
 * mode, `storage.backend = "postgres"`, docs/design.md#configuration). This is the one place that
 * reads `storage.backend`: `serve`, the CLI commands and preflight ask for a {@link StorageHandle}
 * (or the engine's checks) and never branch on the engine. The PostgreSQL modules load only when
 * PostgreSQL is chosen, so SQLite mode does not pay for them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { type Check, fail, pass } from '../preflight/check.ts';
import { dataDirCheck, diskSpaceCheck } from '../preflight/checks.ts';
import type { MigrationStatus } from './migrations.ts';
import type { PgHandle } from './postgres/open.ts';
import { databaseCheck, migrationsCheck } from './sqlite/checks.ts';
import { devJwtSecret } from './sqlite/dev-secret.ts';
import { applyMigrations, migrationStatus } from './sqlite/migrations.ts';
import { openDatabase, type SharedConnections, type SqliteHandle } from './sqlite/open.ts';
import { createSqliteStore } from './sqlite/store.ts';
import type { Store } from './store.ts';

/** Connections of the cluster pool (heartbeat, member list, gauges); the LISTEN has its own. */
const CLUSTER_POOL_SIZE = 2;

/** An opened (not necessarily migrated) storage engine. */
export interface StorageHandle {
  /** The store; use it only after {@link migrate} (or a status with nothing pending). */
  readonly store: Store;
  /** Where the data is: the SQLite file, or the PostgreSQL URL with its password redacted. */
  readonly label: string;
  status(): Promise<MigrationStatus>;
  /**
   * Applies the pending embedded migrations (on PostgreSQL under an advisory lock).
   * @throws LifelineError `db_newer_than_binary` / `migration_failed`.
   */
  migrate(): Promise<{ applied: string[] }>;
  /** Rows in the replay history (the lifeline_history_events gauge). */
  historyCount(): Promise<number>;
  /**
   * The generated development signing key, kept in the database (created on first use, after
   * {@link migrate}); undefined on PostgreSQL, where every instance needs the configured key.
   */
  readonly devJwtSecret: (() => string) | undefined;
  /**
   * A small pool of its own for cluster work (heartbeats, members, LISTEN), opened on first call
   * and closed with the handle; undefined on SQLite, which serves one instance.
   */
  readonly clusterPool: (() => PgHandle) | undefined;
  /** Closes the store (and the cluster pool). */
  close(): Promise<void>;
}

/** What {@link openStorage} needs. */
interface StorageOptions {
  /** Reads `storage.*` and `server.data_dir`. */
  config: Config;
  logger?: Logger;
  clock?: Clock;
  /**
   * The cluster instance id: names the PostgreSQL connections (`application_name`) and holds the
   * outbox leases. Without it the connections are named `lifeline-cli`.
   */
  instanceId?: string;
  /**
   * The connections `serve` shared between config, preflight and the store: SQLite takes the
   * one the checks opened instead of opening the file again (src/storage/sqlite/open.ts).
   */
  share?: SharedConnections;
}

type Target = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };

function targetOf(config: Config): Target {
  const url = config.storage.postgres.url;
  if (config.storage.backend === 'postgres' && url !== undefined)
    return { engine: 'postgres', url };
  return { engine: 'sqlite', path: resolve(join(config.server.data_dir, 'lifeline.db')) };
}

/** True when the configured database is shared by several instances: cluster mode. */
export function clusterMode(config: Config): boolean {
  return targetOf(config).engine === 'postgres';
}

/**
 * Opens the configured engine without migrating it. SQLite opens (and creates) the file now;
 * PostgreSQL connects on the first call.
 * @throws LifelineError `storage_open_failed` when the file or the URL cannot be opened.
 */
export async function openStorage(options: StorageOptions): Promise<StorageHandle> {
  const target = targetOf(options.config);
  return target.engine === 'postgres'
    ? openPostgres(target.url, options)
    : openSqlite(
        target.path,
        options.share?.adopt(target.path) ?? openDatabase(target.path),
        options,
      );
}

/**
 * Runs `use` on the existing store without creating or migrating anything: undefined when the
 * SQLite file does not exist or the database has no migrations applied yet. For commands and
 * checks that only read (overrides, the persisted circuit).
 */
export async function withExistingStore<T>(
  config: Config,
  use: (store: Store) => Promise<T>,
  share?: SharedConnections,
): Promise<T | undefined> {
  const target = targetOf(config);
  if (target.engine === 'sqlite' && !existsSync(target.path)) return undefined;
  // A shared connection stays open for the next user (closing the store leaves it be).
  const storage =
    target.engine === 'sqlite' && share !== undefined
      ? openSqlite(target.path, share.borrow(target.path), {})
      : await openStorage({ config });
  try {
    if ((await storage.status()).applied.length === 0) return undefined;
    return await use(storage.store);
  } finally {
    await storage.close();
  }
}

function openSqlite(
  path: string,
  handle: SqliteHandle,
  options: Pick<StorageOptions, 'clock' | 'logger'>,
): StorageHandle {
  const store = createSqliteStore(handle, { clock: options.clock, logger: options.logger });
  return {
    store,
    label: path,
    status: async () => migrationStatus(handle),
    migrate: async () => applyMigrations(handle),
    historyCount: async () => {
      // The Store has no count of replay events; one count on the raw connection, per scrape.
      const row = handle.sqlite.query('SELECT count(*) AS n FROM history').get() as { n: number };
      return row.n;
    },
    devJwtSecret: () => devJwtSecret(handle),
    clusterPool: undefined,
    close: () => store.close(),
  };
}

async function openPostgres(url: string, options: StorageOptions): Promise<StorageHandle> {
  const { openPgStore } = await import('./postgres/connect.ts');
  const { openPgPool } = await import('./postgres/open.ts');
  const applicationName =
    options.instanceId === undefined
      ? 'lifeline-cli'
      : `lifeline/${options.instanceId}`.slice(0, 63);
  const opened = openPgStore(url, {
    logger: options.logger,
    clock: options.clock,
    applicationName,
    leaseHolder: options.instanceId,
  });
  let side: PgHandle | undefined;
  const clusterPool = () => {
    side ??= openPgPool(url, opened.label, { poolSize: CLUSTER_POOL_SIZE, applicationName });
    return side;
  };
  return {
    store: opened.store,
    label: opened.label,
    status: () => opened.status(),
    migrate: () => opened.migrate(),
    historyCount: async () => {
      const [row] = await clusterPool().sql`SELECT count(*)::float8 AS n FROM history`;
      return (row as { n: number }).n;
    },
    devJwtSecret: undefined,
    clusterPool,
    close: async () => {
      await side?.close(1);
      await opened.close();
    },
  };
}

/** The engine's preflight checks, in report order around the port check. */
interface StorageChecks {
  /** Reported before the port check: where the data lives, that it opens, its migrations. */
  storage: Check[];
  /** Reported after the port check: the host's disk (SQLite only). */
  disk: Check[];
}

/**
 * The preflight checks of the configured engine (docs/design.md#preflight). `devKey` says the
 * daemon would sign with the generated development key, which only SQLite can keep.
 */
export function storageChecks(
  config: Config,
  options: { devKey: boolean; share?: SharedConnections },
): StorageChecks {
  const target = targetOf(config);
  if (target.engine === 'postgres') {
    // Cluster mode keeps nothing in the data directory: no data-dir or disk check (decision).
    return { storage: [clusterKeyCheck(options.devKey), ...lazyPgChecks(target.url)], disk: [] };
  }
  const dataDir = config.server.data_dir;
  return {
    storage: [
      dataDirCheck({ dataDir }),
      databaseCheck({ dbPath: target.path, share: options.share }),
      migrationsCheck({ dbPath: target.path, share: options.share }),
    ],
    disk: [diskSpaceCheck({ dataDir, minFreeDiskMb: config.preflight.min_free_disk_mb })],
  };
}

/**
 * Cluster mode: every instance must verify the same tokens, so the key is configured, not the
 * development key a single database would generate (decision, docs/cluster.md).
 */
function clusterKeyCheck(devKey: boolean): Check {
  return {
    name: 'cluster-key',
    run: async () =>
      devKey
        ? fail(
            'storage.backend = "postgres" needs a configured token key; the generated development key is SQLite-only',
            'set auth.jwt_secret (or auth.jwt_public_key / auth.jwks_file) to the same value on every instance',
          )
        : pass('every instance verifies tokens with the configured key'),
  };
}

/**
 * The PostgreSQL checks (database, migrations, listen), loaded on first run so that SQLite mode
 * never loads the PostgreSQL modules.
 */
function lazyPgChecks(url: string): Check[] {
  const loaded = import('./postgres/checks.ts').then(({ pgChecks }) => pgChecks({ url }));
  loaded.catch(() => {});
  return ['database', 'migrations', 'listen'].map((name, index) => ({
    name,
    run: async (ctx) => {
      const check = (await loaded)[index];
      if (!check || check.name !== name) throw new Error(`PostgreSQL check ${name} is missing`);
      return check.run(ctx);
    },
  }));
}
