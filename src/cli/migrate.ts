/**
 * @module `lifeline migrate [--status]`: apply, or list, the migrations embedded in the binary.
 */

import { printOut } from '../lib/log.ts';
import type { MigrationStatus } from '../storage/migrations.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue } from './exit.ts';
import { loadValidForCommand } from './load.ts';

/** Runs `lifeline migrate` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
  const loaded = await loadValidForCommand(args);
  if (!loaded) return ExitCode.failed;
  const storage = await openStorage({ config: loaded.config });
  try {
    if (args.values.status) return printStatus(storage.label, await storage.status());
    const { applied } = await storage.migrate();
    printOut(
      applied.length
        ? `applied ${applied.join(', ')} to ${storage.label}`
        : `${storage.label} is up to date`,
    );
    return ExitCode.ok;
  } finally {
    await storage.close();
  }
}

/** `migrate --status`: one line per migration; fails when a newer lifeline migrated the database. */
function printStatus(label: string, status: MigrationStatus): ExitCodeValue {
  printOut(`database: ${label}`);
  for (const tag of status.applied) printOut(`applied  ${tag}`);
  for (const tag of status.pending) printOut(`pending  ${tag}`);
  if (status.newerThanBinary) printOut('newer    the database was migrated by a newer lifeline');
  return status.newerThanBinary ? ExitCode.failed : ExitCode.ok;
}
