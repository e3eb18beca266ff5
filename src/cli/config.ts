/**
 * @module `lifeline config show | get KEY | set KEY VALUE | unset KEY` (docs/design.md#cli,
 * #configuration): the effective config with each key's source, and the runtime overrides stored in
 * SQLite (tunables only).
 */
import { userInfo } from 'node:os';
import { formatIssue } from '../config/issue.ts';
import { suggestKey } from '../config/key-suggest.ts';
import { keySpec } from '../config/keys.ts';
import { type LoadResult, loadConfig } from '../config/load.ts';
import { parseOverrideValue } from '../config/overrides.ts';
import { renderConfigJson, renderConfigText, showConfig } from '../config/show.ts';
import { planAgainst, planUnset } from '../daemon/runtime-config.ts';
import { printErr, printOut } from '../lib/log.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { Store } from '../storage/store.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue, UsageError } from './exit.ts';
import { CONFIG_USAGE } from './flags.ts';
import { loadInputOf, loadValidForCommand } from './load.ts';

/** Runs `lifeline config` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
  const [action, ...rest] = args.positionals;
  const loaded = await loadValidForCommand(args);
  if (!loaded) return ExitCode.failed;
  switch (action) {
    case 'show':
      return show(loaded, args, rest);
    case 'get':
      return get(loaded, rest);
    case 'set':
      return set(loaded, args, rest);
    case 'unset':
      return unset(loaded, args, rest);
    default:
      throw new UsageError(
        `lifeline config: expected show, get, set or unset (usage: ${CONFIG_USAGE})`,
      );
  }
}

function expectArgs(rest: string[], count: number, shape: string): void {
  if (rest.length !== count) throw new UsageError(`usage: lifeline config ${shape}`);
}

function knownKey(key: string): void {
  if (keySpec(key)) return;
  const near = suggestKey(key);
  throw new UsageError(`unknown config key "${key}"${near ? `; did you mean ${near}?` : ''}`);
}

async function show(loaded: LoadResult, args: ParsedArgs, rest: string[]): Promise<ExitCodeValue> {
  expectArgs(rest, 0, 'show [--json]');
  const rows = showConfig(loaded.config!, loaded.meta);
  printOut(args.values.json ? renderConfigJson(rows) : renderConfigText(rows));
  return ExitCode.ok;
}

async function get(loaded: LoadResult, rest: string[]): Promise<ExitCodeValue> {
  expectArgs(rest, 1, 'get KEY');
  const key = rest[0]!;
  knownKey(key);
  const row = showConfig(loaded.config!, loaded.meta).find((candidate) => candidate.key === key);
  printOut(`${JSON.stringify(row?.value ?? null)}\t(${row?.location ?? 'default'})`);
  return ExitCode.ok;
}

/** Runs `use` on the migrated store; in cluster mode the shared database every instance polls. */
async function withStore<T>(loaded: LoadResult, use: (store: Store) => Promise<T>): Promise<T> {
  const storage = await openStorage({ config: loaded.config! });
  try {
    await storage.migrate();
    return await use(storage.store);
  } finally {
    await storage.close();
  }
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

async function set(loaded: LoadResult, args: ParsedArgs, rest: string[]): Promise<ExitCodeValue> {
  expectArgs(rest, 2, 'set KEY VALUE');
  const [key, raw] = rest as [string, string];
  knownKey(key);
  // Unknown, not tunable or ill-typed: refused before the database is opened.
  const typed = parseOverrideValue(key, raw);
  if (!typed.ok) {
    printErr(formatIssue(typed.issue));
    return ExitCode.usage;
  }
  // The real check runs inside the write, against the overrides stored at that moment, so a
  // daemon's admin API (or another `config set`) changing a related key cannot slip in between.
  const plan = await withStore(loaded, (store) =>
    store.updateOverrides(
      (stored) =>
        planAgainst(
          stored,
          { [key]: raw },
          (overrides) => loadConfig({ ...loadInputOf(args), overrides }),
          (k, v, current) => parseOverrideValue(k, String(v), current),
        ),
      actor(),
    ),
  );
  if (!plan.ok) {
    for (const issue of plan.issues) printErr(formatIssue(issue));
    return ExitCode.usage;
  }
  const value = JSON.stringify(typed.value);
  printOut(
    plan.writes.length === 0
      ? `${key} is already ${value}; nothing stored`
      : `${key} = ${value} (runtime override; a running daemon applies it live)`,
  );
  return ExitCode.ok;
}

async function unset(loaded: LoadResult, args: ParsedArgs, rest: string[]): Promise<ExitCodeValue> {
  expectArgs(rest, 1, 'unset KEY');
  const key = rest[0]!;
  knownKey(key);
  // Checked inside the write: the overrides left behind must still make a valid config.
  const plan = await withStore(loaded, (store) =>
    store.updateOverrides(
      (stored) =>
        planUnset(stored, key, (overrides) => loadConfig({ ...loadInputOf(args), overrides })),
      actor(),
    ),
  );
  if (plan.issues.length > 0) {
    printErr(`lifeline config unset ${key}: refused, the config without this override is invalid`);
    for (const issue of plan.issues) printErr(formatIssue(issue));
    return ExitCode.usage;
  }
  printOut(plan.removed ? `${key}: runtime override removed` : `${key} had no runtime override`);
  return ExitCode.ok;
}
