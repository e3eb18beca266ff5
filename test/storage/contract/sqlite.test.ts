/** The storage contract against the SQLite adapter. */
import { openDatabase } from '../../../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/store.ts';
import { freshStore } from '../../support/db.ts';
import { type ContractDb, storeContract } from './contract.ts';

storeContract('sqlite', async (options) => {
  const db = freshStore(options);
  const sqlite = () => db.handle.sqlite;
  const contract: ContractDb = {
    store: db.store,
    failingContentChars: 200_000,
    // A second connection with its own write queue: what a second process would be.
    openSecond: async () => createSqliteStore(openDatabase(db.path), options),
    async breakStorage() {
      const { page_count } = sqlite().query('PRAGMA page_count').get() as { page_count: number };
      sqlite().run(`PRAGMA max_page_count = ${page_count}`);
    },
    async restoreStorage() {
      sqlite().run('PRAGMA max_page_count = 1073741823');
    },
    [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
  };
  return contract;
});
