/**
 * @module Conversions between the nested config object and a flat map of dotted keys, checking
 * each path against the schema so unknown keys and misplaced tables are found in any source.
 */
import { configKeys, isSection, keySpec } from './keys.ts';
import type { Config } from './schema.ts';

/** A flat map from dotted key to value. */
export type FlatValues = Map<string, unknown>;

/** What {@link flattenTable} found besides known leaf values. */
interface FlattenResult {
  values: FlatValues;
  /** Paths that are neither a key nor a section. */
  unknown: string[];
  /** Sections given a non-table value (e.g. `server = 5`). */
  notTables: string[];
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !('isDate' in value && typeof value.isDate === 'function')
  );
}

/** Walks a nested object (a parsed TOML file or a candidate config) into dotted keys. */
export function flattenTable(table: Record<string, unknown>, prefix = ''): FlattenResult {
  const out: FlattenResult = { values: new Map(), unknown: [], notTables: [] };
  const visit = (node: Record<string, unknown>, path: string) => {
    for (const [name, value] of Object.entries(node)) {
      const key = path ? `${path}.${name}` : name;
      if (keySpec(key)) out.values.set(key, value);
      else if (!isSection(key)) out.unknown.push(key);
      else if (isTable(value)) visit(value, key);
      else out.notTables.push(key);
    }
  };
  visit(table, prefix);
  return out;
}

/** Builds the nested object from dotted keys; undefined values are left out. */
export function nestValues(values: FlatValues): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of values) {
    const parts = key.split('.');
    let node = root;
    // Sections are created even when all their keys are unset, so `Config` always has them.
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    if (value !== undefined) node[parts[parts.length - 1]!] = value;
  }
  return root;
}

/** Flattens a config into every key's value (unset optional keys are undefined). */
export function flattenConfig(config: Config): FlatValues {
  const flat = flattenTable(config as unknown as Record<string, unknown>).values;
  return new Map(configKeys().map((spec) => [spec.key, flat.get(spec.key)]));
}
