/**
 * @module Preflight checks of the database (docs/design.md#preflight; docs/faults.md#process-faults
 * P5–P8): it opens, takes a real write (a read-only file opens and reads fine, and fails only on
 * the first write), passes `PRAGMA quick_check` (a corrupted page opens and accepts writes; only
 * quick_check sees it), is in WAL mode, and its migrations are known to this binary. The checks
 * never delete data.
 */
import { existsSync } from 'node:fs';
import { describeError } from '../../lib/errors.ts';
import { type Check, fail, pass } from '../../preflight/check.ts';
import { migrationStatus } from './migrations.ts';
import { openDatabase, type SharedConnections, type SqliteHandle } from './open.ts';

const RESTORE_FIX =
  'restore the database from a `lifeline backup` copy (the daemon never deletes data)';

/** Input of the database and migrations checks. */
interface DatabaseCheckOptions {
  dbPath: string;
  /** `serve` shares one connection between the checks and the store; without it each opens its own. */
  share?: SharedConnections;
}

function withHandle<T>(
  path: string,
  share: SharedConnections | undefined,
  use: (handle: SqliteHandle) => T,
): T {
  const handle = share === undefined ? openDatabase(path) : share.borrow(path);
  try {
    return use(handle);
  } finally {
    handle.close();
  }
}

function probeWrite(handle: SqliteHandle): void {
  const sqlite = handle.sqlite;
  sqlite.run('BEGIN IMMEDIATE');
  try {
    sqlite.run('CREATE TEMP TABLE IF NOT EXISTS preflight_probe (x INTEGER)');
    sqlite.run(
      "INSERT INTO meta (key, value) VALUES ('preflight_probe', 'x') ON CONFLICT(key) DO UPDATE SET value = 'x'",
    );
  } finally {
    sqlite.run('ROLLBACK');
  }
}

/** The `database` check: opens, probes a write, runs quick_check, confirms WAL. */
export function databaseCheck(input: DatabaseCheckOptions): Check {
  return {
    name: 'database',
    async run() {
      const fresh = !existsSync(input.dbPath);
      try {
        return withHandle(input.dbPath, input.share, (handle) => {
          const mode = (
            handle.sqlite.query('PRAGMA journal_mode').get() as { journal_mode: string }
          ).journal_mode;
          const quick = handle.sqlite.query('PRAGMA quick_check').all() as Array<{
            quick_check: string;
          }>;
          const problems = quick.map((row) => row.quick_check).filter((text) => text !== 'ok');
          if (problems.length > 0) {
            return fail(
              `${input.dbPath} failed quick_check: ${problems[0]}`,
              RESTORE_FIX,
              problems.slice(0, 5),
            );
          }
          if (mode !== 'wal') {
            return fail(
              `${input.dbPath} is in ${mode} mode, not WAL`,
              'check that the file system supports WAL (shared memory, no network share)',
            );
          }
          if (!fresh) {
            const hasMeta = handle.sqlite
              .query("SELECT 1 FROM sqlite_master WHERE name = 'meta'")
              .get();
            if (hasMeta) probeWrite(handle);
          }
          return pass(
            `${input.dbPath} opens, takes writes, passes quick_check, WAL${fresh ? ' (new file)' : ''}`,
          );
        });
      } catch (error) {
        return fail(
          `${input.dbPath}: ${describeError(error)}${causeText(error)}`,
          databaseFix(error),
        );
      }
    },
  };
}

function causeText(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

function databaseFix(error: unknown): string {
  const text = `${describeError(error)} ${causeText(error)}`.toLowerCase();
  if (text.includes('readonly') || text.includes('read-only')) {
    return 'make the database file and its directory writable by the service user (check chattr +i and the mount)';
  }
  if (text.includes('not a database') || text.includes('malformed')) return RESTORE_FIX;
  if (text.includes('full')) return 'free disk space on the data directory’s file system';
  return 'check the data directory’s permissions and free space, or restore from a backup';
}

/** The `migrations` check: applied, pending (serve applies them) or newer than this binary. */
export function migrationsCheck(input: DatabaseCheckOptions): Check {
  return {
    name: 'migrations',
    async run() {
      if (!existsSync(input.dbPath)) return pass('new database; serve applies every migration');
      try {
        return withHandle(input.dbPath, input.share, (handle) => {
          const status = migrationStatus(handle);
          if (status.newerThanBinary) {
            return fail(
              `the database was migrated by a newer lifeline (${new Date(status.dbLatestMillis ?? 0).toISOString()})`,
              'run the newer lifeline binary, or restore a backup made by this version',
            );
          }
          if (status.pending.length > 0) {
            return pass(
              `${status.applied.length} applied, ${status.pending.length} pending (serve applies them): ${status.pending.join(', ')}`,
            );
          }
          return pass(`all ${status.applied.length} migrations applied`);
        });
      } catch (error) {
        // The same cause as the database check (disk full, permissions), so the same fix.
        return fail(
          `cannot read migrations: ${describeError(error)}${causeText(error)}`,
          databaseFix(error),
        );
      }
    },
  };
}
