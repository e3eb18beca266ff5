/**
 * @module What loading and validation report: one {@link ConfigIssue} per problem, naming the key,
 * where the value came from, what was expected and, when possible, the fix. Issue text shows the
 * offending value when it is short (a typo such as "loud" or "74OO"); a secret key's value, or a
 * value long enough to be a secret pasted into the wrong key, is only described ("a 48-character
 * string"), so a secret cannot leak through an error (docs/decisions.md "Config issues show the
 * offending value").
 */

/** Where an effective value came from, lowest precedence first (docs/design.md#configuration). */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag' | 'override';

/** One problem found while loading or validating config. */
export interface ConfigIssue {
  /** Dotted key (or `config` for problems with the file itself, or the unknown name as given). */
  key: string;
  /** Where: `lifeline.toml:12`, `env LIFELINE_BREAKER_COOLDOWN_S`, `flag --port`, `default`, `override`. */
  source: string;
  /** One sentence naming the key, what was expected and what was got (never a secret's value). */
  message: string;
  /** What to do about it, e.g. `did you mean breaker.cooldown_s?`. */
  fix?: string;
  /** `warn` issues leave the config usable; absent means error. */
  severity?: 'error' | 'warn';
}

/** Renders an issue as one line: `source: message (fix)`. */
export function formatIssue(issue: ConfigIssue): string {
  const fix = issue.fix === undefined ? '' : ` (${issue.fix})`;
  return `${issue.source}: ${issue.message}${fix}`;
}

/** Whether any issue is an error (not a warning). */
export function hasErrors(issues: readonly ConfigIssue[]): boolean {
  return issues.some((issue) => issue.severity !== 'warn');
}

/**
 * Longest value (as JSON text) an issue shows. Below the 32 bytes of the shortest signing key
 * lifeline accepts, so a key typed into the wrong place is described, never echoed.
 */
const SHOWN_VALUE_CHARS = 24;

/** A value as JSON text when it is short enough to show, else undefined. */
function shown(value: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined;
  }
  return text !== undefined && text.length <= SHOWN_VALUE_CHARS ? text : undefined;
}

/**
 * Describes a received value for an error message: the value itself (strings quoted) when it is
 * short and the key is not secret, so the operator sees what to correct; else only its kind.
 */
export function describeValue(value: unknown, secret: boolean): string {
  if (value === null) return 'null';
  if (value instanceof Date || (typeof value === 'object' && 'isDate' in value)) return 'a date';
  if (!secret && (typeof value !== 'object' || Array.isArray(value))) {
    const text = shown(value);
    if (text !== undefined) return text;
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return value === '' ? 'an empty string' : `a ${value.length}-character string`;
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'object') return 'a table';
  return typeof value;
}
