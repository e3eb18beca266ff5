/**
 * @module Embedded SQLite migrations. The SQL files are compiled into the binary (migrations.gen.ts) and
 * applied with drizzle's bookkeeping (the same `__drizzle_migrations` table, rows and applied rule
 * as drizzle's `dialect.migrate`), so drizzle-kit and lifeline interoperate both ways
 * (docs/runtime.md#migrations-in-binary, option C) — but in one transaction, table included, so
 * a fresh database commits (and fsyncs) once (docs/decisions.md, "Migrations in one transaction").
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
  try {
    runPending(handle, before.dbLatestMillis);
  } catch (error) {
    throw new LifelineError('migration_failed', `applying migrations to ${handle.path} failed`, {
      fix: 'restore the database from a backup, or report the error with the log line',
      cause: error,
    });
  }
  return { applied: before.pending };
}

/**
 * drizzle's `dialect.migrate` for SQLite, in one transaction: it creates the bookkeeping table in
 * a commit of its own first. Same table, same rows, same rule (a migration is applied when its
 * `when` is not newer than the newest recorded `created_at`); the folder migrator test in
 * test/storage/sqlite/migrations.test.ts keeps the two interchangeable.
 */
function runPending(handle: SqliteHandle, dbLatest: number | null): void {
  const sqlite = handle.sqlite;
  sqlite.run('BEGIN IMMEDIATE');
  try {
    sqlite.run(
      `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
    );
    const record = sqlite.prepare(
      `INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES (?, ?)`,
    );
    for (const migration of embeddedMigrations()) {
      if (dbLatest !== null && migration.folderMillis <= dbLatest) continue;
      for (const statement of migration.sql) sqlite.run(statement);
      record.run(migration.hash, migration.folderMillis);
    }
    record.finalize();
    sqlite.run('COMMIT');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.run('ROLLBACK');
    throw error;
  }
}
