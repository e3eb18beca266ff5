/**
 * @module Layered loading (docs/design.md#configuration): built-in defaults < TOML file <
 * LIFELINE_* env < flags < runtime overrides. Returns the config together with where each value
 * came from and every issue found, so `check` can report them all at once
 * (docs/design.md#config-with-sources).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type ConfigIssue, hasErrors } from './issue.ts';
import { configKeys } from './keys.ts';
import type { ConfigMeta } from './meta.ts';
import { applyOverrides, type OverrideRow } from './overrides.ts';
import type { Config } from './schema.ts';
import {
  CONFIG_ENV,
  readEnvSource,
  readFileSource,
  readFlagSource,
  type SourcedValue,
  type SourceRead,
} from './sources.ts';
import { nestValues } from './tree.ts';
import { validateValues } from './validate.ts';

/** Everything {@link loadConfig} reads; each field defaults to the real process when omitted. */
export interface LoadOptions {
  /** Values from the command line by dotted key (`server.port` → raw text or value). */
  flags?: Record<string, unknown>;
  /** The flag each key in `flags` was given as (`server.port` → `--port`), for errors. */
  flagNames?: Record<string, string>;
  /** Environment; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** An explicit `--config FILE`. */
  configPath?: string;
  /** Directory searched for `lifeline.toml`; defaults to `process.cwd()`. */
  cwd?: string;
  /** Whether stdout is a terminal (decides the default log.format); defaults to process.stdout. */
  isTTY?: boolean;
  /** Runtime overrides read from the database, applied last. */
  overrides?: readonly OverrideRow[];
}

/** The result of {@link loadConfig}: `config` is undefined when any issue is an error. */
export interface LoadResult {
  config: Config | undefined;
  meta: ConfigMeta;
  issues: ConfigIssue[];
}

/** The name of the config file looked for in the working directory. */
const DEFAULT_CONFIG_FILE = 'lifeline.toml';

/** Defaults resolved at load time: the systemd state dir and the terminal decide two of them. */
function defaultValues(
  env: Record<string, string | undefined>,
  isTTY: boolean,
): Map<string, SourcedValue> {
  const values = new Map<string, SourcedValue>();
  for (const spec of configKeys()) {
    values.set(spec.key, { value: spec.default, source: 'default', where: 'default' });
  }
  // systemd sets STATE_DIRECTORY to a colon-separated list when several are configured.
  const stateDir = env.STATE_DIRECTORY?.split(':')[0];
  if (stateDir)
    values.set('server.data_dir', {
      value: stateDir,
      source: 'default',
      where: 'default ($STATE_DIRECTORY)',
    });
  values.set('log.format', {
    value: isTTY ? 'pretty' : 'json',
    source: 'default',
    where: 'default',
  });
  return values;
}

/** Finds the config file: `--config`, else `LIFELINE_CONFIG`, else `./lifeline.toml` if present. */
function locateConfigFile(
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): { path: string; named: string } | undefined {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  if (configPath !== undefined && configPath !== '')
    return { path: absolute(configPath), named: 'flag --config' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '')
    return { path: absolute(fromEnv), named: `env ${CONFIG_ENV}` };
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? { path: local, named: 'default location' } : undefined;
}

/**
 * Loads the effective config from every source and validates it. Never throws for bad input:
 * every problem becomes a {@link ConfigIssue} naming the key, the source and what was expected.
 */
export function loadConfig(input: LoadOptions = {}): LoadResult {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const file = locateConfigFile(input.configPath, env, cwd);
  const layers: SourceRead[] = [
    { values: defaultValues(env, input.isTTY ?? process.stdout.isTTY === true), issues: [] },
    file === undefined ? { values: new Map(), issues: [] } : readFileSource(file.path, file.named),
    readEnvSource(env),
    readFlagSource(input.flags ?? {}, input.flagNames),
  ];
  const merged = new Map<string, SourcedValue>();
  for (const layer of layers) for (const [key, value] of layer.values) merged.set(key, value);

  const meta: ConfigMeta = { sources: {}, locations: {} };
  if (file !== undefined) meta.file = file.path;
  for (const [key, { source, where }] of merged) {
    meta.sources[key] = source;
    meta.locations[key] = where;
  }
  const values = new Map([...merged].map(([key, { value }]) => [key, value]));
  const issues = layers.flatMap((layer) => layer.issues);
  issues.push(...validateValues(values, (key) => merged.get(key)?.where ?? 'default'));
  if (hasErrors(issues)) return { config: undefined, meta, issues };

  const config = nestValues(values) as Config;
  if (input.overrides === undefined || input.overrides.length === 0)
    return { config, meta, issues };
  const applied = applyOverrides(config, meta, input.overrides);
  return { config: applied.config, meta: applied.meta, issues: [...issues, ...applied.issues] };
}
