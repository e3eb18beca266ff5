/**
 * @module Embedded PostgreSQL migrations, the same way as the SQLite ones
 * (docs/runtime.md#migrations-in-binary, option C): the SQL files are compiled into the binary
 * (migrations.gen.ts) and applied through drizzle's own pg dialect `migrate`, so
 * `drizzle.__drizzle_migrations` is bookkept exactly as drizzle-kit does it. Instances starting
 * together serialise on an advisory lock.
 */
import { drizzle } from 'drizzle-orm/bun-sql';
import type { MigrationMeta } from 'drizzle-orm/migrator';
import { LifelineError } from '../../lib/errors.ts';
import {
  MIGRATIONS_TABLE,
  type MigrationStatus,
  migrationMetas,
  statusAgainst,
} from '../migrations.ts';
import { journalEntries, sqlByTag } from './migrations.gen.ts';
import type { PgHandle } from './open.ts';

/** The schema drizzle keeps its bookkeeping table in on PostgreSQL. */
const PG_MIGRATIONS_SCHEMA = 'drizzle';
/** pg_advisory_lock key held while migrating (arbitrary, fixed: "lifeline" in ASCII). */
const MIGRATION_LOCK_KEY = 0x6c6966656c696e65n;

/** The tags of the embedded migrations, in order. */
export function embeddedPgTags(): string[] {
  return journalEntries.map((e) => e.tag);
}

/**
 * Builds drizzle's MigrationMeta list from the embedded SQL, as `readMigrationFiles` does from
 * migrations-pg/ (a test keeps them equal).
 * @throws Error when the journal names a migration that was not embedded.
 */
export function embeddedPgMigrations(): MigrationMeta[] {
  return migrationMetas(journalEntries, sqlByTag, 'bun run gen:migrations:pg');
}

async function dbLatestMillis(handle: PgHandle): Promise<number | null> {
  const table = `${PG_MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;
  const [exists] = await handle.sql`SELECT to_regclass(${table}) IS NOT NULL AS present`;
  if (!(exists as { present: boolean }).present) return null;
  const [row] = await handle.sql.unsafe(
    `SELECT MAX(created_at)::float8 AS latest FROM "${PG_MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`,
  );
  const latest = (row as { latest: number | null } | undefined)?.latest ?? null;
  return latest === null ? null : Number(latest);
}

/** Applied and pending migrations, and whether a newer binary migrated this database. */
export async function pgMigrationStatus(handle: PgHandle): Promise<MigrationStatus> {
  return statusAgainst(journalEntries, await dbLatestMillis(handle));
}

function newerError(handle: PgHandle, status: MigrationStatus): LifelineError {
  return new LifelineError(
    'db_newer_than_binary',
    `the database ${handle.label} was migrated by a newer lifeline (its newest migration is from ` +
      `${new Date(status.dbLatestMillis ?? 0).toISOString()}, this binary's newest is from ` +
      `${new Date(status.binaryLatestMillis).toISOString()})`,
    {
      fix: 'run the newer lifeline binary on every instance, or restore a backup made by this version',
    },
  );
}

interface MigratingDialect {
  migrate(
    migrations: MigrationMeta[],
    session: unknown,
    config: { migrationsTable: string; migrationsSchema: string },
  ): Promise<void>;
}

/**
 * Applies the pending embedded migrations in one transaction, holding an advisory lock so two
 * instances starting together do not both migrate.
 * @throws LifelineError `db_newer_than_binary` when a newer binary migrated the database.
 * @throws LifelineError `migration_failed` when a migration's SQL fails (nothing is applied).
 */
export async function applyPgMigrations(handle: PgHandle): Promise<{ applied: string[] }> {
  const reserved = await handle.sql.reserve();
  try {
    await reserved`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::int8)`;
    try {
      const before = await pgMigrationStatus(handle);
      if (before.newerThanBinary) throw newerError(handle, before);
      if (before.pending.length === 0) return { applied: [] };
      // `dialect` and `session` are not in drizzle's public .d.ts
      // (docs/runtime.md#migrations-in-binary).
      const db = drizzle({ client: reserved }) as unknown as {
        dialect: MigratingDialect;
        session: unknown;
      };
      try {
        await db.dialect.migrate(embeddedPgMigrations(), db.session, {
          migrationsTable: MIGRATIONS_TABLE,
          migrationsSchema: PG_MIGRATIONS_SCHEMA,
        });
      } catch (error) {
        throw new LifelineError(
          'migration_failed',
          `applying migrations to ${handle.label} failed`,
          {
            fix: 'check the role may create tables in the database, or report the error with the log line',
            cause: error,
          },
        );
      }
      return { applied: before.pending };
    } finally {
      await reserved`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::int8)`.catch(
        () => {},
      );
    }
  } finally {
    reserved.release();
  }
}
