/**
 * @module `lifeline backup FILE`: an online, consistent copy of the database (VACUUM INTO) that
 * gets a new epoch, so clients of a restored copy resync instead of replaying
 * (docs/design.md#epochs).
 */
import { resolve } from 'node:path';
import { LifelineError } from '../lib/errors.ts';
import { printErr, printOut } from '../lib/log.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue, UsageError } from './exit.ts';
import { loadValidForCommand } from './load.ts';

/** Runs `lifeline backup` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
  const [target, ...extra] = args.positionals;
  if (!target || extra.length > 0)
    throw new UsageError('usage: lifeline backup FILE (one file name)');
  const loaded = await loadValidForCommand(args);
  if (!loaded) return ExitCode.failed;
  const storage = await openStorage({ config: loaded.config });
  try {
    await storage.store.backupTo(resolve(target));
  } catch (error) {
    // PostgreSQL: the store says so, and which tool to use instead.
    if (!(error instanceof LifelineError) || error.code !== 'backup_unsupported') throw error;
    printErr(`lifeline backup: ${error.message}; ${error.fix}`);
    return ExitCode.failed;
  } finally {
    await storage.close();
  }
  printOut(`backup written to ${resolve(target)}`);
  return ExitCode.ok;
}
