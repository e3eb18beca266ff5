/**
 * Writes docs/config.md and deploy/lifeline.example.toml from the config schema. Run after
 * changing src/config/schema.ts: `bun scripts/gen-config-docs.ts`. test/config/docs.test.ts fails
 * when the files on disk differ from what this would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderConfigDocs, renderExampleToml } from '../src/config/docs.ts';

const ROOT = resolve(import.meta.dir, '..');

/** The generated files, by path relative to the repository root. */
export const GENERATED: Record<string, () => string> = {
  'docs/config.md': renderConfigDocs,
  'deploy/lifeline.example.toml': renderExampleToml,
};

if (import.meta.main) {
  for (const [path, render] of Object.entries(GENERATED)) {
    const target = join(ROOT, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, render());
    process.stdout.write(`wrote ${path}\n`);
  }
}
