/**
 * @module The command table: the only list of commands (docs/design.md#cli).
 */
import { backupCommand } from './backup.ts';
import { checkCommand } from './check.ts';
import type { Command } from './command.ts';
import { configCommand } from './config.ts';
import { migrateCommand } from './migrate.ts';
import { serveCommand } from './serve.ts';
import { tokenCommand } from './token.ts';
import { versionCommand } from './version.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  checkCommand,
  migrateCommand,
  configCommand,
  tokenCommand,
  backupCommand,
  versionCommand,
];
