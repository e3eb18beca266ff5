/**
 * @module `lifeline backup FILE`: an online, consistent copy of the database (VACUUM INTO) that
 * gets a new epoch, so clients of a restored copy resync instead of replaying
 * (docs/design.md#epochs).
 */
import { resolve } from 'node:path';
import { formatIssue } from '../config/issue.ts';
import { databasePath } from '../daemon/config.ts';
import { printErr, printOut } from '../lib/log.ts';
import { openDatabase } from '../storage/sqlite/open.ts';
import { createSqliteStore } from '../storage/sqlite/store.ts';
import type { Command } from './command.ts';
import { ExitCode, UsageError } from './exit.ts';
import { CONFIG_FLAG, loadForCommand } from './load.ts';

/** The backup command. */
export const backupCommand: Command = {
  name: 'backup',
  summary: 'write an online copy of the database to FILE (safe while serving)',
  usage: 'lifeline backup FILE [--config FILE]',
  options: { ...CONFIG_FLAG, 'data-dir': { type: 'string' } },
  run: async (args) => {
    const [target, ...extra] = args.positionals;
    if (!target || extra.length > 0)
      throw new UsageError('usage: lifeline backup FILE (one file name)');
    const loaded = await loadForCommand(args);
    if (!loaded.config) {
      for (const issue of loaded.issues) printErr(formatIssue(issue));
      return ExitCode.failed;
    }
    if (loaded.config.storage.backend === 'postgres') {
      printErr(
        'lifeline backup: storage.backend is "postgres"; back the database up with pg_dump (or your provider’s snapshots), see docs/cluster.md',
      );
      return ExitCode.failed;
    }
    const store = createSqliteStore(openDatabase(databasePath(loaded.config)));
    try {
      await store.backupTo(resolve(target));
    } finally {
      await store.close();
    }
    printOut(`backup written to ${resolve(target)}`);
    return ExitCode.ok;
  },
};
