/**
 * Helpers for config tests: write a TOML text to a temp file and load it with a fixed, empty
 * environment so nothing from the real process leaks in.
 */
import { writeFileSync } from 'node:fs';
import { type LoadOptions, type LoadResult, loadConfig } from '../../src/config/load.ts';
import { tempDir } from '../support/temp.ts';

/** Loads `toml` (written to `<tmp>/lifeline.toml`) plus `input`; returns the result and the path. */
export function loadToml(toml: string, input: LoadOptions = {}): LoadResult & { path: string } {
  using dir = tempDir('lifeline-config');
  const path = dir.join('lifeline.toml');
  writeFileSync(path, toml);
  const result = loadConfig({ env: {}, isTTY: false, cwd: dir.path, configPath: path, ...input });
  return { ...result, path };
}

/** Loads with no file and an empty environment, plus `input`. */
export function loadPlain(input: LoadOptions = {}): LoadResult {
  using dir = tempDir('lifeline-config');
  return loadConfig({ env: {}, isTTY: false, cwd: dir.path, ...input });
}
