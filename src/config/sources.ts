/**
 * @module Reading each config source into values tagged with where they came from: the TOML file
 * (with the line of every key, for errors), LIFELINE_* environment variables and command-line
 * flags. Merging and validation happen in load.ts.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { describeError } from '../lib/errors.ts';
import { coerceRaw } from './coerce.ts';
import type { ConfigIssue, ConfigSource } from './issue.ts';
import { suggestEnv } from './key-suggest.ts';
import { keyForEnv, keySpec } from './keys.ts';
import { flattenTable } from './tree.ts';
import { unknownKeyIssue } from './validate.ts';

/** One value read from a source, with the text that names where it came from in errors. */
export interface SourcedValue {
  value: unknown;
  source: ConfigSource;
  /** e.g. `lifeline.toml:12`, `env LIFELINE_BREAKER_COOLDOWN_S`, `flag --port`. */
  where: string;
}

/** What reading one source produced. */
export interface SourceRead {
  values: Map<string, SourcedValue>;
  issues: ConfigIssue[];
}

/** The env var naming the config file; it is not itself a config key. */
export const CONFIG_ENV = 'LIFELINE_CONFIG';

/** Flag names of the keys docs/design.md#cli gives a flag; other keys are shown as `flag <key>`. */
const FLAG_NAMES: Readonly<Record<string, string>> = {
  'server.host': '--host',
  'server.port': '--port',
  'server.data_dir': '--data-dir',
};

const HEADER = /^\s*\[\s*([^\][]+?)\s*\]\s*(#.*)?$/;
const ASSIGN = /^\s*([A-Za-z0-9_\-."' ]+?)\s*=/;

function dottedOf(text: string): string {
  return text
    .split('.')
    .map((part) => part.trim().replace(/^["']|["']$/g, ''))
    .join('.');
}

/**
 * Maps each dotted key (and table) written in a TOML text to its 1-based line, by scanning
 * `[table]` headers and `key =` lines. Good enough for errors; the parser remains the authority.
 */
function tomlKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let table = '';
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trimStart().startsWith('[[')) return;
    const header = HEADER.exec(line);
    if (header) {
      table = dottedOf(header[1]!);
      if (!lines.has(table)) lines.set(table, index + 1);
      return;
    }
    const assign = ASSIGN.exec(line);
    if (!assign) return;
    const key = table ? `${table}.${dottedOf(assign[1]!)}` : dottedOf(assign[1]!);
    if (!lines.has(key)) lines.set(key, index + 1);
  });
  return lines;
}

function syntaxIssue(error: unknown, display: string): ConfigIssue {
  if (error instanceof TomlError) {
    // Only the first line: smol-toml appends a code excerpt, which could show a secret.
    const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    return {
      key: 'config',
      source: `${display}:${error.line}`,
      message: `TOML syntax error at line ${error.line}, column ${error.column}: ${reason}`,
      fix: 'fix the syntax; see deploy/lifeline.example.toml',
    };
  }
  return {
    key: 'config',
    source: display,
    message: `cannot parse ${display}: ${describeError(error)}`,
  };
}

/**
 * Reads and parses a TOML config file. `named` says how the file was chosen (`flag --config`,
 * `env LIFELINE_CONFIG`), for the error when it cannot be read.
 */
export function readFileSource(path: string, named: string): SourceRead {
  const read: SourceRead = { values: new Map(), issues: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? describeError(error);
    read.issues.push({
      key: 'config',
      source: named,
      message: `cannot read config file ${path} (${code})`,
    });
    return read;
  }
  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (error) {
    read.issues.push(syntaxIssue(error, path));
    return read;
  }
  const lines = tomlKeyLines(text);
  const where = (key: string) => {
    const line = lines.get(key) ?? lines.get(key.split('.').slice(0, -1).join('.'));
    return line === undefined ? path : `${path}:${line}`;
  };
  const flat = flattenTable(table);
  for (const key of flat.unknown) read.issues.push(unknownKeyIssue(key, where(key)));
  for (const key of flat.notTables) {
    read.issues.push({
      key,
      source: where(key),
      message: `${key} is a section and must be a table ([${key}])`,
    });
  }
  for (const [key, value] of flat.values) {
    read.values.set(key, { value, source: 'file', where: where(key) });
  }
  return read;
}

/**
 * Reads LIFELINE_* variables. Unknown names are issues with the nearest valid name; an empty
 * value counts as unset, except for lists, where it means the empty list.
 */
export function readEnvSource(env: Record<string, string | undefined>): SourceRead {
  const read: SourceRead = { values: new Map(), issues: [] };
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('LIFELINE_') || name === CONFIG_ENV || raw === undefined) continue;
    const where = `env ${name}`;
    const spec = keyForEnv(name);
    if (spec === undefined) {
      const near = suggestEnv(name);
      const issue: ConfigIssue = {
        key: name,
        source: where,
        message: `unknown environment variable ${name}`,
      };
      if (near !== undefined) issue.fix = `did you mean ${near} (${keyForEnv(near)?.key})?`;
      read.issues.push(issue);
      continue;
    }
    if (raw.trim() === '' && spec.type !== 'string[]') continue;
    const result = coerceRaw(spec, raw);
    if (result.ok) read.values.set(spec.key, { value: result.value, source: 'env', where });
    else read.issues.push({ key: spec.key, source: where, message: result.message });
  }
  return read;
}

/**
 * Reads command-line values given by dotted key. Strings are parsed like env values; other
 * values are taken as they are. `flagNames` maps keys to the flag the user typed.
 */
export function readFlagSource(
  flags: Record<string, unknown>,
  flagNames: Readonly<Record<string, string>> = FLAG_NAMES,
): SourceRead {
  const read: SourceRead = { values: new Map(), issues: [] };
  for (const [key, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    const where = `flag ${flagNames[key] ?? FLAG_NAMES[key] ?? `--${key}`}`;
    const spec = keySpec(key);
    if (spec === undefined) {
      read.issues.push(unknownKeyIssue(key, where));
      continue;
    }
    const result =
      typeof raw === 'string' ? coerceRaw(spec, raw) : { ok: true as const, value: raw };
    if (result.ok) read.values.set(key, { value: result.value, source: 'flag', where });
    else read.issues.push({ key, source: where, message: result.message });
  }
  return read;
}
