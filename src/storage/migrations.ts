/**
 * @module What both engines share about embedded migrations: the bookkeeping table, the status
 * report and drizzle's rules for building the migration list and telling applied from pending.
 * Each engine compiles its own SQL into the binary (sqlite/migrations.gen.ts,
 * postgres/migrations.gen.ts) and applies it through drizzle's dialect `migrate`, so
 * `__drizzle_migrations` is bookkept exactly as drizzle-kit does it
 * (docs/runtime.md#migrations-in-binary, option C).
 */
import { createHash } from 'node:crypto';
import type { MigrationMeta } from 'drizzle-orm/migrator';

/** The table drizzle-kit and lifeline both record applied migrations in. */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

/** Where the database stands against the migrations compiled into this binary. */
export interface MigrationStatus {
  /** Tags of the binary's migrations already applied. */
  applied: string[];
  /** Tags of the binary's migrations not yet applied. */
  pending: string[];
  /** True when a newer binary migrated this database; this binary must not touch it. */
  newerThanBinary: boolean;
  /** Newest `created_at` in the migrations table, or null for a fresh database. */
  dbLatestMillis: number | null;
  /** Newest journal `when` compiled into this binary. */
  binaryLatestMillis: number;
}

/** One drizzle-kit journal entry, as the generated `*.gen.ts` files carry them. */
interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
  breakpoints: boolean;
}

/**
 * Builds drizzle's MigrationMeta list from embedded SQL, the same way drizzle's
 * `readMigrationFiles` does from a folder (a test per engine keeps them equal).
 * @throws Error when the journal names a migration that was not embedded (`regenerate` says how
 * to fix it).
 */
export function migrationMetas(
  journal: ReadonlyArray<JournalEntry>,
  sqlByTag: Record<string, string>,
  regenerate: string,
): MigrationMeta[] {
  return journal.map((entry) => {
    const query = sqlByTag[entry.tag];
    if (query === undefined) {
      throw new Error(`migration ${entry.tag} not embedded; run ${regenerate}`);
    }
    return {
      sql: query.split('--> statement-breakpoint'),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash('sha256').update(query).digest('hex'),
    };
  });
}

/** The status of a database whose newest recorded migration is from `dbLatest` (null: none). */
export function statusAgainst(
  journal: ReadonlyArray<JournalEntry>,
  dbLatest: number | null,
): MigrationStatus {
  const binaryLatest = journal.reduce((max, e) => Math.max(max, e.when), 0);
  const applied: string[] = [];
  const pending: string[] = [];
  // Same rule as drizzle's dialects: a migration is applied when its `when` is not newer than the
  // newest recorded created_at.
  for (const e of journal) {
    if (dbLatest !== null && e.when <= dbLatest) applied.push(e.tag);
    else pending.push(e.tag);
  }
  return {
    applied,
    pending,
    newerThanBinary: dbLatest !== null && dbLatest > binaryLatest,
    dbLatestMillis: dbLatest,
    binaryLatestMillis: binaryLatest,
  };
}
