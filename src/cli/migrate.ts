/**
 * @module `lifeline migrate [--status]`: apply, or list, the migrations embedded in the binary.
 */

import { formatIssue } from '../config/issue.ts';
import { databasePath } from '../daemon/config.ts';
import { printErr, printOut } from '../lib/log.ts';
import { applyMigrations, migrationStatus } from '../storage/sqlite/migrations.ts';
import { openDatabase } from '../storage/sqlite/open.ts';
import type { Command } from './command.ts';
import { ExitCode, type ExitCodeValue } from './exit.ts';
import { CONFIG_FLAG, loadForCommand } from './load.ts';

/** The migrate command. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the embedded database migrations (or list them with --status)',
  usage: 'lifeline migrate [--config FILE] [--status]',
  options: { ...CONFIG_FLAG, 'data-dir': { type: 'string' }, status: { type: 'boolean' } },
  run: async (args) => {
    const loaded = await loadForCommand(args);
    if (!loaded.config) {
      for (const issue of loaded.issues) printErr(formatIssue(issue));
      return ExitCode.failed;
    }
    const url = loaded.config.storage.postgres.url;
    if (loaded.config.storage.backend === 'postgres' && url !== undefined) {
      return migratePostgres(url, args.values.status === true);
    }
    const path = databasePath(loaded.config);
    const handle = openDatabase(path);
    try {
      const status = migrationStatus(handle);
      if (args.values.status) {
        printOut(`database: ${path}`);
        for (const tag of status.applied) printOut(`applied  ${tag}`);
        for (const tag of status.pending) printOut(`pending  ${tag}`);
        if (status.newerThanBinary)
          printOut('newer    the database was migrated by a newer lifeline');
        return status.newerThanBinary ? ExitCode.failed : ExitCode.ok;
      }
      const { applied } = applyMigrations(handle);
      printOut(
        applied.length ? `applied ${applied.join(', ')} to ${path}` : `${path} is up to date`,
      );
      return ExitCode.ok;
    } finally {
      handle.close();
    }
  },
};

/** `migrate` on storage.backend = "postgres": the same output, under the migration lock. */
async function migratePostgres(url: string, statusOnly: boolean): Promise<ExitCodeValue> {
  const { openPgStore } = await import('../storage/postgres/connect.ts');
  const opened = openPgStore(url, { applicationName: 'lifeline-cli' });
  try {
    const status = await opened.status();
    if (statusOnly) {
      printOut(`database: ${opened.label}`);
      for (const tag of status.applied) printOut(`applied  ${tag}`);
      for (const tag of status.pending) printOut(`pending  ${tag}`);
      if (status.newerThanBinary)
        printOut('newer    the database was migrated by a newer lifeline');
      return status.newerThanBinary ? ExitCode.failed : ExitCode.ok;
    }
    const { applied } = await opened.migrate();
    printOut(
      applied.length
        ? `applied ${applied.join(', ')} to ${opened.label}`
        : `${opened.label} is up to date`,
    );
    return ExitCode.ok;
  } finally {
    await opened.close();
  }
}
