/**
 * @module Shared flag handling: `--config` and the server flags, turned into a config load.
 */
import type { LoadResult } from '../config/load.ts';
import { loadEffectiveConfig } from '../daemon/config.ts';
import type { OptionSpec, ParsedArgs } from './args.ts';

/** Flags every config-reading command accepts. */
export const CONFIG_FLAG: OptionSpec = { config: { type: 'string' } };

/** The flags of `serve` that set config keys (SPEC §1). */
export const SERVER_FLAGS: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
};

const FLAG_KEYS: Record<string, string> = {
  host: 'server.host',
  port: 'server.port',
  'data-dir': 'server.data_dir',
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

/** Loads the effective config (with stored overrides) for a command. */
export function loadForCommand(args: ParsedArgs): Promise<LoadResult> {
  return loadEffectiveConfig(loadInputOf(args));
}
