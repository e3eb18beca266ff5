/**
 * @module What loading and validation report: one {@link ConfigIssue} per problem, naming the key,
 * where the value came from, what was expected and, when possible, the fix. Issue text never
 * contains a string value, so a secret typed into the wrong place cannot leak through an error.
 */

/** Where an effective value came from, lowest precedence first (docs/design.md#configuration). */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag' | 'override';

/** One problem found while loading or validating config. */
export interface ConfigIssue {
  /** Dotted key (or `config` for problems with the file itself, or the unknown name as given). */
  key: string;
  /** Where: `lifeline.toml:12`, `env LIFELINE_BREAKER_COOLDOWN_S`, `flag --port`, `default`, `override`. */
  source: string;
  /** One sentence naming the key and what was expected; never contains a string value. */
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
 * Describes a received value for an error message without revealing it: numbers and booleans
 * are shown unless the key is secret; strings never are (they may be a misplaced secret).
 */
export function describeValue(value: unknown, secret: boolean): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if ((typeof value === 'number' || typeof value === 'boolean') && !secret) return String(value);
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (value instanceof Date || (typeof value === 'object' && 'isDate' in value)) return 'a date';
  if (typeof value === 'object') return 'a table';
  return typeof value;
}
