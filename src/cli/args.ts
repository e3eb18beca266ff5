/**
 * @module Flag parsing with `node:util` parseArgs: unknown flags and bad values become usage
 * errors that name the nearest valid flag.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { suggest } from '../config/suggest.ts';
import { UsageError } from './exit.ts';

/** Option definitions in parseArgs' shape. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `options` (plus `--help`).
 * @throws UsageError on an unknown flag or a missing value, with a suggestion.
 */
export function parseFlags(command: string, argv: string[], options: OptionSpec): ParsedArgs {
  const withHelp: OptionSpec = { ...options, help: { type: 'boolean', short: 'h' } };
  try {
    const parsed = parseArgs({
      args: argv,
      options: withHelp,
      strict: true,
      allowPositionals: true,
    });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    throw new UsageError(explainParseError(command, error, Object.keys(withHelp)));
  }
}

function explainParseError(command: string, error: unknown, known: string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (unknown) {
    const near = suggest(unknown.replace(/^-+/, '').split('=')[0] ?? '', known);
    const hint = near ? `; did you mean --${near}?` : '';
    return `lifeline ${command}: unknown flag ${unknown}${hint} (see lifeline ${command} --help)`;
  }
  return `lifeline ${command}: ${message.split('\n')[0]} (see lifeline ${command} --help)`;
}
