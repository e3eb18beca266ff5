import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/bun-sqlite/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { LifelineError } from '../../../src/lib/errors.ts';
import { MIGRATIONS_TABLE } from '../../../src/storage/migrations.ts';
import {
  applyMigrations,
  embeddedMigrations,
  embeddedTags,
  migrationStatus,
} from '../../../src/storage/sqlite/migrations.ts';
import { openDatabase } from '../../../src/storage/sqlite/open.ts';
import { tempDir } from '../../support/temp.ts';

const MIGRATIONS_FOLDER = join(import.meta.dir, '..', '..', '..', 'migrations');

function tables(handle: ReturnType<typeof openDatabase>): string[] {
  const rows = handle.sqlite
    .query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all() as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

describe('migrations', () => {
  test('embedded list equals what drizzle reads from the migrations folder', () => {
    expect(embeddedMigrations()).toEqual(
      readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }),
    );
  });

  test('a fresh database gets every migration, then reports none pending', () => {
    using dir = tempDir('mig');
    const handle = openDatabase(dir.join('a.db'));
    expect(migrationStatus(handle).pending).toEqual(embeddedTags());
    expect(applyMigrations(handle)).toEqual({ applied: embeddedTags() });
    const status = migrationStatus(handle);
    expect(status.applied).toEqual(embeddedTags());
    expect(status.pending).toEqual([]);
    expect(status.newerThanBinary).toBe(false);
    expect(tables(handle)).toContain('messages');
    expect(tables(handle)).toContain('messages_fts');
    handle.close();
  });

  test('a second run applies nothing and keeps the epoch', () => {
    using dir = tempDir('mig');
    const handle = openDatabase(dir.join('a.db'));
    applyMigrations(handle);
    const epoch = handle.sqlite.query("SELECT value FROM meta WHERE key = 'epoch'").get();
    expect(applyMigrations(handle)).toEqual({ applied: [] });
    expect(handle.sqlite.query("SELECT value FROM meta WHERE key = 'epoch'").get()).toEqual(epoch);
    const count = handle.sqlite.query(`SELECT COUNT(*) AS n FROM ${MIGRATIONS_TABLE}`).get();
    expect(count).toEqual({ n: embeddedTags().length });
    handle.close();
  });

  test('the first migration makes a 32-hex-character epoch', () => {
    using dir = tempDir('mig');
    const handle = openDatabase(dir.join('a.db'));
    applyMigrations(handle);
    const row = handle.sqlite.query("SELECT value FROM meta WHERE key = 'epoch'").get() as {
      value: string;
    };
    expect(row.value).toMatch(/^[0-9a-f]{32}$/);
    handle.close();
  });

  test('bookkeeping interoperates with drizzle’s folder migrator both ways', () => {
    using dir = tempDir('mig');
    const kit = openDatabase(dir.join('kit.db'));
    migrate(kit.db, { migrationsFolder: MIGRATIONS_FOLDER });
    expect(applyMigrations(kit)).toEqual({ applied: [] });
    kit.close();
    const ours = openDatabase(dir.join('ours.db'));
    applyMigrations(ours);
    migrate(ours.db, { migrationsFolder: MIGRATIONS_FOLDER });
    const count = ours.sqlite.query(`SELECT COUNT(*) AS n FROM ${MIGRATIONS_TABLE}`).get();
    expect(count).toEqual({ n: embeddedTags().length });
    ours.close();
  });

  test('a failed migration leaves a fresh database as it was, bookkeeping table included', () => {
    using dir = tempDir('mig');
    const handle = openDatabase(dir.join('a.db'));
    // The first migration creates `meta`; a table already there makes it fail part way.
    handle.sqlite.run('CREATE TABLE meta (x INTEGER)');
    expect(() => applyMigrations(handle)).toThrow(/applying migrations/);
    expect(tables(handle)).toEqual(['meta']);
    expect(handle.sqlite.inTransaction).toBe(false);
    handle.close();
  });

  test('a database migrated by a newer binary is refused with a fix', () => {
    using dir = tempDir('mig');
    const handle = openDatabase(dir.join('a.db'));
    applyMigrations(handle);
    const newer = migrationStatus(handle).binaryLatestMillis + 1000;
    handle.sqlite
      .query(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES ('future', ?)`)
      .run(newer);
    const status = migrationStatus(handle);
    expect(status.newerThanBinary).toBe(true);
    expect(status.dbLatestMillis).toBe(newer);
    let caught: unknown;
    try {
      applyMigrations(handle);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LifelineError);
    expect((caught as LifelineError).code).toBe('db_newer_than_binary');
    expect((caught as LifelineError).fix).toContain('newer lifeline');
    handle.close();
  });
});
