/**
 * @module The command table: the only list of commands (docs/design.md#cli). Names, help and
 * flags live here; each command's code is imported only when that command runs, so `version`,
 * `--help` and a usage error load no library and no other command (docs/benchmarks.md, Startup).
 */
import type { Command, CommandRun } from './command.ts';
import { CONFIG_FLAG, CONFIG_USAGE, SERVER_FLAGS } from './flags.ts';

/** A run that imports its module on first use. */
function lazy(load: () => Promise<{ run: CommandRun }>): CommandRun {
  return async (args) => (await load()).run(args);
}

const DATA_DIR = { 'data-dir': { type: 'string' } } as const;

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  {
    name: 'serve',
    summary: 'run the pre-flight self-check, then bind the port and serve',
    usage:
      'lifeline serve [--config FILE] [--host H] [--port N] [--data-dir DIR] [--assistant none|demo|http] [--strict]',
    options: { ...CONFIG_FLAG, ...SERVER_FLAGS, strict: { type: 'boolean' } },
    run: lazy(() => import('./serve.ts')),
  },
  {
    name: 'check',
    summary: 'run the pre-flight self-check without starting (exit 1 if a check fails)',
    usage: 'lifeline check [--config FILE] [--json] [--strict]',
    help: '--strict turns the memory-service warnings into failures.',
    options: {
      ...CONFIG_FLAG,
      ...SERVER_FLAGS,
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
    },
    run: lazy(() => import('./check.ts')),
  },
  {
    name: 'migrate',
    summary: 'apply the embedded database migrations (or list them with --status)',
    usage: 'lifeline migrate [--config FILE] [--status]',
    options: { ...CONFIG_FLAG, ...DATA_DIR, status: { type: 'boolean' } },
    run: lazy(() => import('./migrate.ts')),
  },
  {
    name: 'config',
    summary: 'show the effective config, or get/set/unset runtime overrides of tunable keys',
    usage: CONFIG_USAGE,
    help: 'set/unset write runtime overrides into the database; a running daemon applies them live.',
    options: { ...CONFIG_FLAG, ...DATA_DIR, json: { type: 'boolean' } },
    run: lazy(() => import('./config.ts')),
  },
  {
    name: 'token',
    summary: 'mint a token for a user with the configured HS256 key (development)',
    usage: 'lifeline token --user ID [--ttl 1h] [--config FILE]',
    options: { ...CONFIG_FLAG, ...DATA_DIR, user: { type: 'string' }, ttl: { type: 'string' } },
    run: lazy(() => import('./token.ts')),
  },
  {
    name: 'backup',
    summary: 'write an online copy of the database to FILE (safe while serving)',
    usage: 'lifeline backup FILE [--config FILE]',
    options: { ...CONFIG_FLAG, ...DATA_DIR },
    run: lazy(() => import('./backup.ts')),
  },
  {
    name: 'version',
    summary: 'print the version, git commit, build date and Bun version',
    usage: 'lifeline version [--json]',
    options: { json: { type: 'boolean' } },
    run: lazy(() => import('./version.ts')),
  },
];
