/**
 * @module Embedded SQLite migrations. The SQL files are compiled into the binary (migrations.gen.ts) and
 * applied through drizzle's own `dialect.migrate`, so `__drizzle_migrations` is bookkept exactly as
 * drizzle-kit does it and the two interoperate both ways (docs/runtime.md#migrations-in-binary,
 * option C).
 */
import type { MigrationMeta } from 'drizzle-orm/migrator';
import { LifelineError } from '../../lib/errors.ts';
import {
  MIGRATIONS_TABLE,
  type MigrationStatus,
  migrationMetas,
  statusAgainst,
} from '../migrations.ts';
import { journalEntries, sqlByTag } from './migrations.gen.ts';
import type { SqliteHandle } from './open.ts';

/** The tags of the embedded migrations, in order. */
export function embeddedTags(): string[] {
  return journalEntries.map((e) => e.tag);
}

/**
 * Builds drizzle's MigrationMeta list from the embedded SQL, the same way drizzle's
 * `readMigrationFiles` does from a folder (a test keeps them equal).
 * @throws Error when the journal names a migration that was not embedded (re-run gen:migrations).
 */
export function embeddedMigrations(): MigrationMeta[] {
  return migrationMetas(journalEntries, sqlByTag, 'bun run gen:migrations');
}

function dbLatestMillis(handle: SqliteHandle): number | null {
  const exists = handle.sqlite
    .query('SELECT 1 AS x FROM sqlite_master WHERE type = ? AND name = ?')
    .get('table', MIGRATIONS_TABLE);
  if (exists === null) return null;
  const row = handle.sqlite
    .query(`SELECT MAX(CAST(created_at AS INTEGER)) AS latest FROM ${MIGRATIONS_TABLE}`)
    .get() as { latest: number | null } | null;
  return row?.latest ?? null;
}

/** Reports applied and pending migrations and whether a newer binary migrated this database. */
export function migrationStatus(handle: SqliteHandle): MigrationStatus {
  return statusAgainst(journalEntries, dbLatestMillis(handle));
}

interface MigratingDialect {
  migrate(migrations: MigrationMeta[], session: unknown, config: { migrationsTable: string }): void;
}

/**
 * Applies the pending embedded migrations in one transaction.
 * @throws LifelineError `db_newer_than_binary` when a newer binary migrated the database.
 * @throws LifelineError `migration_failed` when a migration's SQL fails (nothing is applied).
 */
export function applyMigrations(handle: SqliteHandle): { applied: string[] } {
  const before = migrationStatus(handle);
  if (before.newerThanBinary) {
    throw new LifelineError(
      'db_newer_than_binary',
      `the database at ${handle.path} was migrated by a newer lifeline (its newest migration is ` +
        `from ${new Date(before.dbLatestMillis ?? 0).toISOString()}, this binary's newest is from ` +
        `${new Date(before.binaryLatestMillis).toISOString()})`,
      { fix: 'run the newer lifeline binary, or restore a backup made by this version' },
    );
  }
  if (before.pending.length === 0) return { applied: [] };
  // `dialect` and `session` are not in drizzle's public .d.ts
  // (docs/runtime.md#migrations-in-binary); the equivalence test in test/storage/migrations.test.ts
  // pins the behaviour to drizzle 0.45.
  const internals = handle.db as unknown as { dialect: MigratingDialect; session: unknown };
  try {
    internals.dialect.migrate(embeddedMigrations(), internals.session, {
      migrationsTable: MIGRATIONS_TABLE,
    });
  } catch (error) {
    throw new LifelineError('migration_failed', `applying migrations to ${handle.path} failed`, {
      fix: 'restore the database from a backup, or report the error with the log line',
      cause: error,
    });
  }
  return { applied: before.pending };
}
