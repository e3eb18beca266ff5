/**
 * @module Effective configuration for a command: the file/env/flag layers, then (when the
 * database exists) the runtime overrides stored in it. Config never imports storage; this is
 * where the two meet (docs/design.md#layers).
 */
import { type LoadOptions, type LoadResult, loadConfig } from '../config/load.ts';
import { withExistingStore } from '../storage/open-storage.ts';
import type { SharedConnections } from '../storage/sqlite/open.ts';
import type { Store } from '../storage/store.ts';

/** Reads the stored runtime overrides, if the database exists and has the table. */
async function readOverrides(store: Store): Promise<Array<{ key: string; value: unknown }>> {
  const rows = await store.listOverrides();
  return rows.map((row) => ({ key: row.key, value: JSON.parse(row.valueJson) as unknown }));
}

/**
 * Loads the config from file, env and flags, then applies the overrides found in an existing
 * database. A database that cannot be read is left to preflight to report. `share` keeps the
 * connection open for preflight and the store (`serve`).
 */
export async function loadEffectiveConfig(
  input: LoadOptions,
  share?: SharedConnections,
): Promise<LoadResult> {
  const base = loadConfig(input);
  if (!base.config) return base;
  try {
    const overrides = await withExistingStore(base.config, readOverrides, share);
    return overrides === undefined || overrides.length === 0
      ? base
      : loadConfig({ ...input, overrides });
  } catch {
    return base;
  }
}
