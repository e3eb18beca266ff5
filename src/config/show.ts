/**
 * @module `lifeline config show`: every effective key with its value and source, secrets redacted
 * (docs/design.md#configuration). Rows, an aligned text table and JSON, so the CLI and the admin
 * API print the same.
 */
import type { ConfigSource } from './issue.ts';
import { configKeys } from './keys.ts';
import type { ConfigMeta } from './meta.ts';
import type { Config } from './schema.ts';
import { flattenConfig } from './tree.ts';

/** What a secret that is set shows instead of its value. */
export const REDACTED = '********';

/** One row of `config show`. */
export interface ShownKey {
  key: string;
  /** The effective value; `********` for a secret that is set, undefined for an unset key. */
  value: unknown;
  source: ConfigSource;
  /** Where exactly: `default`, `/etc/lifeline.toml:12`, `env LIFELINE_X`, `flag --port`. */
  location: string;
  secret: boolean;
  tunable: boolean;
}

/** Every key of `config` in schema order, with its source; secret values are redacted. */
export function showConfig(config: Config, meta: ConfigMeta): ShownKey[] {
  const values = flattenConfig(config);
  return configKeys().map((spec) => {
    const value = values.get(spec.key);
    const source = meta.sources[spec.key] ?? 'default';
    return {
      key: spec.key,
      value: spec.secret && value !== undefined ? REDACTED : value,
      source,
      location: meta.locations[spec.key] ?? source,
      secret: spec.secret,
      tunable: spec.tunable,
    };
  });
}

function renderValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (typeof value === 'string') return value === REDACTED ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** An aligned three-column table: key, value, source. */
export function renderConfigText(rows: readonly ShownKey[]): string {
  const cells = rows.map((row) => [row.key, renderValue(row.value), row.location]);
  const header = ['KEY', 'VALUE', 'SOURCE'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((cell) => cell[i]!.length)),
  );
  const line = (cell: string[]) =>
    cell
      .map((text, i) => (i === cell.length - 1 ? text : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...cells].map(line).join('\n')}\n`;
}

/** The JSON form of one row, shared by `config show --json` and the admin API: unset is null. */
export function configRowJson(row: ShownKey) {
  return {
    key: row.key,
    value: row.value === undefined ? null : row.value,
    source: row.source,
    location: row.location,
    secret: row.secret,
    tunable: row.tunable,
  };
}

/** JSON for `config show --json`: an array of rows; unset values are null. */
export function renderConfigJson(rows: readonly ShownKey[]): string {
  return `${JSON.stringify(rows.map(configRowJson), null, 2)}\n`;
}
