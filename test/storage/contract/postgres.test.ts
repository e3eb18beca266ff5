/**
 * The storage contract against the PostgreSQL adapter: one throwaway server for the file, a fresh
 * database per test. Skips with a printed reason outside CI when PostgreSQL is not installed.
 */
import { afterAll, beforeAll, describe } from 'bun:test';
import { createPgStore } from '../../../src/storage/postgres/connect.ts';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../../support/postgres.ts';
import { type ContractDb, storeContract } from './contract.ts';

let server: PgServer | undefined;

describe.skipIf(!postgresTestsEnabled('the PostgreSQL store contract'))('postgres', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  storeContract('postgres', async (options) => {
    const pg = server!;
    const name = databaseName();
    const url = await pg.createDatabase(name);
    const store = await createPgStore({ url, clock: options?.clock, probeIntervalMs: 50 });
    const contract: ContractDb = {
      store,
      failingContentChars: 10,
      // Another pool on the same database: what a second lifeline instance is.
      openSecond: () => createPgStore({ url, clock: options?.clock, poolSize: 4 }),
      breakStorage: () => pg.stopServer(),
      restoreStorage: () => pg.startServer(),
      async [Symbol.asyncDispose]() {
        await store.close();
        await pg.dropDatabase(name);
      },
    };
    return contract;
  });
});
