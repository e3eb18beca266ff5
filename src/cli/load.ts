/**
 * @module Shared flag handling: `--config` and the server flags, turned into a config load.
 */
import { formatIssue } from '../config/issue.ts';
import type { LoadResult } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadEffectiveConfig } from '../daemon/config.ts';
import { printErr } from '../lib/log.ts';
import type { SharedConnections } from '../storage/sqlite/open.ts';
import type { ParsedArgs } from './args.ts';
import { UsageError } from './exit.ts';

/** The config key each of flags.ts's SERVER_FLAGS sets. */
const FLAG_KEYS: Record<string, string> = {
  host: 'server.host',
  port: 'server.port',
  'data-dir': 'server.data_dir',
  assistant: 'assistant.backend',
};

/** Maps parsed flags to the loader's input: dotted keys, their flag names, the config path. */
export function loadInputOf(args: ParsedArgs) {
  const flags: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const value = args.values[flag];
    if (typeof value === 'string') {
      flags[key] = value;
      flagNames[key] = `--${flag}`;
    }
  }
  const configPath = typeof args.values.config === 'string' ? args.values.config : undefined;
  return { flags, flagNames, configPath };
}

/**
 * Loads the effective config (with stored overrides) for a command.
 * @throws UsageError when a flag's value is invalid: a bad value on the command line is a usage
 * error (exit 2), while bad values in files or env are reported by the config check (exit 1).
 * `share` keeps the database connection open for the command's next steps (`serve`).
 */
export async function loadForCommand(
  args: ParsedArgs,
  share?: SharedConnections,
): Promise<LoadResult> {
  const loaded = await loadEffectiveConfig(loadInputOf(args), share);
  const flagIssues = loaded.issues.filter(
    (issue) => issue.source.startsWith('flag') && issue.severity !== 'warn',
  );
  if (flagIssues.length > 0) throw new UsageError(flagIssues.map(formatIssue).join('\n'));
  return loaded;
}

/** {@link loadForCommand} for commands that need a valid config: prints the issues and gives undefined. */
export async function loadValidForCommand(
  args: ParsedArgs,
): Promise<(LoadResult & { config: Config }) | undefined> {
  const loaded = await loadForCommand(args);
  if (loaded.config) return { ...loaded, config: loaded.config };
  for (const issue of loaded.issues) printErr(formatIssue(issue));
  return undefined;
}
