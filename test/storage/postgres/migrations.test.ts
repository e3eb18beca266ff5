/**
 * PostgreSQL-only: embedded migrations (equal to drizzle's folder reader, interoperable with
 * drizzle's own bun-sql migrator, safe when instances start together, newer-than-binary refused)
 * and the preflight checks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/bun-sql';
import { migrate } from 'drizzle-orm/bun-sql/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { LifelineError } from '../../../src/lib/errors.ts';
import { MIGRATIONS_TABLE } from '../../../src/storage/migrations.ts';
import { pgChecks } from '../../../src/storage/postgres/checks.ts';
import { openPgStore } from '../../../src/storage/postgres/connect.ts';
import { embeddedPgMigrations, embeddedPgTags } from '../../../src/storage/postgres/migrations.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../../support/postgres.ts';

const FOLDER = join(import.meta.dir, '..', '..', '..', 'migrations-pg');
const ctx = () => ({ strict: false, signal: new AbortController().signal });
let server: PgServer | undefined;

async function freshUrl(): Promise<string> {
  return server!.createDatabase(databaseName());
}

async function bookkeeping(url: string): Promise<number> {
  const sql = new Bun.SQL(url);
  try {
    const [row] = await sql.unsafe(`SELECT COUNT(*)::int AS n FROM drizzle."${MIGRATIONS_TABLE}"`);
    return (row as { n: number }).n;
  } finally {
    await sql.close();
  }
}

describe.skipIf(!postgresTestsEnabled('the PostgreSQL migration tests'))(
  'postgres migrations',
  () => {
    beforeAll(async () => {
      server = await startPostgres();
    });
    afterAll(async () => {
      await server?.stop();
    });

    test('the embedded list equals what drizzle reads from migrations-pg/', () => {
      expect(embeddedPgMigrations()).toEqual(readMigrationFiles({ migrationsFolder: FOLDER }));
    });

    test('a fresh database gets every migration, then reports none pending', async () => {
      const opened = openPgStore(await freshUrl());
      try {
        expect((await opened.status()).pending).toEqual(embeddedPgTags());
        expect(await opened.migrate()).toEqual({ applied: embeddedPgTags() });
        expect(await opened.status()).toMatchObject({
          applied: embeddedPgTags(),
          pending: [],
          newerThanBinary: false,
        });
        expect(await opened.migrate()).toEqual({ applied: [] });
        expect(await opened.store.epoch()).toMatch(/^[0-9a-f]{32}$/);
      } finally {
        await opened.close();
      }
    });

    test('instances migrating at once apply each migration exactly once', async () => {
      const url = await freshUrl();
      const instances = Array.from({ length: 4 }, () => openPgStore(url, { poolSize: 2 }));
      try {
        const results = await Promise.all(instances.map((i) => i.migrate()));
        const applied = results.flatMap((r) => r.applied);
        expect(applied.sort()).toEqual([...embeddedPgTags()].sort());
        expect(await bookkeeping(url)).toBe(embeddedPgTags().length);
        const epochs = await Promise.all(instances.map((i) => i.store.epoch()));
        expect(new Set(epochs).size).toBe(1);
      } finally {
        await Promise.all(instances.map((i) => i.close()));
      }
    });

    test('drizzle’s own migrator and the embedded one interoperate both ways', async () => {
      const kitUrl = await freshUrl();
      const client = new Bun.SQL(kitUrl);
      await migrate(drizzle({ client }), { migrationsFolder: FOLDER });
      await client.close();
      const opened = openPgStore(kitUrl);
      try {
        expect((await opened.status()).pending).toEqual([]);
        expect(await opened.migrate()).toEqual({ applied: [] });
      } finally {
        await opened.close();
      }
      const embUrl = await freshUrl();
      const emb = openPgStore(embUrl);
      await emb.migrate();
      await emb.close();
      const again = new Bun.SQL(embUrl);
      await migrate(drizzle({ client: again }), { migrationsFolder: FOLDER });
      await again.close();
      expect(await bookkeeping(embUrl)).toBe(embeddedPgTags().length);
    });

    test('a database migrated by a newer binary is refused, and the check fails', async () => {
      const url = await freshUrl();
      const opened = openPgStore(url);
      try {
        await opened.migrate();
        const sql = new Bun.SQL(url);
        await sql.unsafe(
          `INSERT INTO drizzle."${MIGRATIONS_TABLE}" (hash, created_at) VALUES ('future', 4102444800000)`,
        );
        await sql.close();
        expect((await opened.status()).newerThanBinary).toBe(true);
        const error = (await opened.migrate().catch((e: unknown) => e)) as LifelineError;
        expect(error.code).toBe('db_newer_than_binary');
        const [, migrations] = pgChecks({ url });
        expect(await migrations!.run(ctx())).toMatchObject({ status: 'fail' });
      } finally {
        await opened.close();
      }
    });

    test('checks pass on a migrated database: answers, version, writes, migrations, LISTEN', async () => {
      const url = await freshUrl();
      const opened = openPgStore(url);
      await opened.migrate();
      await opened.close();
      const outcomes = await Promise.all(pgChecks({ url }).map((c) => c.run(ctx())));
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
      expect(outcomes[0]!.detail).toContain('PostgreSQL 1');
      expect(outcomes[0]!.detail).not.toContain('password');
      expect(outcomes[1]!.detail).toBe(`all ${embeddedPgTags().length} migrations applied`);
    });

    test('checks on an empty database pass and say serve migrates it', async () => {
      const url = await freshUrl();
      const [database, migrations] = pgChecks({ url });
      expect(await database!.run(ctx())).toMatchObject({ status: 'ok' });
      expect(await migrations!.run(ctx())).toMatchObject({
        status: 'ok',
        detail: 'new database; serve applies every migration',
      });
    });

    test('checks against nothing listening fail with a fix and no password', async () => {
      const url = `postgres://lifeline:s3cret@127.0.0.1:${server!.port + 1}/nope`;
      const outcomes = await Promise.all(pgChecks({ url }).map((c) => c.run(ctx())));
      for (const o of outcomes) {
        expect(o.status).toBe('fail');
        expect(o.fix).toBeString();
        expect(o.detail).not.toContain('s3cret');
      }
    });
  },
);
