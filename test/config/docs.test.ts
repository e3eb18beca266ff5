import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GENERATED } from '../../scripts/gen-config-docs.ts';
import { configKeys } from '../../src/config/keys.ts';
import { loadConfig } from '../../src/config/load.ts';

const ROOT = resolve(import.meta.dir, '../..');

describe('generated config docs', () => {
  test.each(Object.keys(GENERATED))('%s equals what the schema generates', (path) => {
    const onDisk = readFileSync(join(ROOT, path), 'utf8');
    expect(onDisk).toBe(GENERATED[path]!());
  });

  test('the example TOML loads with zero issues', () => {
    const path = join(ROOT, 'deploy/lifeline.example.toml');
    const result = loadConfig({ env: {}, isTTY: false, configPath: path });
    expect(result.issues).toEqual([]);
    const fromFile = Object.values(result.meta.sources).filter((source) => source === 'file');
    expect(fromFile.length).toBeGreaterThan(30);
  });

  test('docs/config.md has one row per key, and every key a description', () => {
    const doc = readFileSync(join(ROOT, 'docs/config.md'), 'utf8');
    for (const spec of configKeys()) {
      expect(spec.description.length).toBeGreaterThan(10);
      expect(doc).toContain(`\n| \`${spec.key}\` `);
    }
  });
});
