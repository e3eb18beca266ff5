/**
 * Our tidy test (docs/design.md#layers): the one-way layer rule, size limits and banned calls, each
 * failure reported with file and line.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript-api';
import {
  brokenCitations,
  brokenLinks,
  outsideReferences,
  trackedFiles,
} from './support/doc-links.ts';
import { unusedExports } from './support/unused-exports.ts';

const ROOT = resolve(import.meta.dir, '..');
const SRC = join(ROOT, 'src');

/** Layer of each top-level folder of src/; a file may import lower layers and its own folder. */
const LAYERS: Record<string, number> = {
  lib: 0,
  metrics: 0,
  config: 1,
  preflight: 2,
  storage: 3,
  breaker: 4,
  memory: 5,
  realtime: 6,
  /** Above realtime: the turn runner commits replies through its pipeline and pushes frames. */
  assistant: 7,
  http: 8,
  daemon: 9,
  cli: 10,
};
/** breaker/ is pure: it may import lib/ only (docs/design.md#layers). */
const ONLY_LIB = new Set(['breaker']);
/** Declarative tables allowed past the 70-line function limit, by file and function name. */
const LONG_TABLES = new Set(['config/schema.ts:configSchema', 'metrics/registry.ts:createMetrics']);
const MAX_FUNCTION_LINES = 70;
const MAX_FILE_LINES = 400;

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.gen.ts') ? [path] : [];
  });
}

const files = listSources(SRC).map((path) => ({
  path,
  rel: relative(SRC, path),
  text: readFileSync(path, 'utf8'),
}));

function folderOf(rel: string): string {
  return rel.split('/')[0] ?? '';
}

/** Every import/export-from specifier with its line, type-only imports included. */
function importsOf(text: string): Array<{ spec: string; line: number }> {
  const found: Array<{ spec: string; line: number }> = [];
  const pattern =
    /^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const match of text.matchAll(pattern)) {
    const spec = match[1] ?? match[2] ?? match[3] ?? '';
    const line = text.slice(0, match.index).split('\n').length;
    found.push({ spec, line });
  }
  return found;
}

function layerViolations(): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const from = folderOf(file.rel);
    const fromLayer = LAYERS[from];
    if (fromLayer === undefined) {
      problems.push(`src/${file.rel}: folder "${from}" is not in the layer table`);
      continue;
    }
    for (const { spec, line } of importsOf(file.text)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(file.path), spec));
      if (target.startsWith('..')) continue;
      const to = folderOf(target);
      if (to === from) continue;
      const toLayer = LAYERS[to];
      const allowed =
        toLayer !== undefined &&
        (ONLY_LIB.has(from) ? to === 'lib' : toLayer < fromLayer || toLayer === 0);
      if (!allowed)
        problems.push(
          `src/${file.rel}:${line}: ${from} (layer ${fromLayer}) imports ${to} ("${spec}")`,
        );
    }
  }
  return problems;
}

/** Where a relative import of `file` points, as a path under src/ (undefined: outside src/). */
function targetOf(file: { path: string }, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(dirname(file.path), spec));
  return target.startsWith('..') ? undefined : target;
}

/** Each storage engine's folder; neither may import the other (what they share lives above). */
const ENGINES = ['storage/sqlite/', 'storage/postgres/'];

function engineViolations(): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const own = ENGINES.find((folder) => file.rel.startsWith(folder));
    if (!own) continue;
    for (const { spec, line } of importsOf(file.text)) {
      const other = ENGINES.find(
        (folder) => folder !== own && targetOf(file, spec)?.startsWith(folder),
      );
      if (other)
        problems.push(
          `src/${file.rel}:${line}: ${own.slice(0, -1)} imports ${other.slice(0, -1)} ("${spec}"); move what both engines share to src/storage/`,
        );
    }
  }
  return problems;
}

/** Every import cycle among src/ files (type-only and dynamic imports included), as file chains. */
function importCycles(): string[] {
  const edges = new Map(
    files.map((file) => [
      file.rel,
      [...new Set(importsOf(file.text).map(({ spec }) => targetOf(file, spec)))].filter(
        (target): target is string => target !== undefined && target !== file.rel,
      ),
    ]),
  );
  const cycles = new Set<string>();
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (rel: string) => {
    stack.push(rel);
    for (const next of edges.get(rel) ?? []) {
      const at = stack.indexOf(next);
      if (at >= 0) {
        const ring = stack.slice(at);
        const first = ring.indexOf([...ring].sort()[0]!);
        const chain = [...ring.slice(first), ...ring.slice(0, first)];
        cycles.add([...chain, chain[0]].map((item) => `src/${item}`).join(' → '));
      } else if (!done.has(next)) visit(next);
    }
    stack.pop();
    done.add(rel);
  };
  for (const rel of edges.keys()) if (!done.has(rel)) visit(rel);
  return [...cycles].sort();
}

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) {
    return node.parent.name.text;
  }
  if (ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name)) {
    return node.parent.name.text;
  }
  return '<anonymous>';
}

function longFunctions(): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = functionName(node);
        if (end - start + 1 > MAX_FUNCTION_LINES && !LONG_TABLES.has(`${file.rel}:${name}`)) {
          problems.push(
            `src/${file.rel}:${start + 1}: function ${name} is ${end - start + 1} lines (max ${MAX_FUNCTION_LINES})`,
          );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return problems;
}

function lineProblems(): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const lines = file.text.split('\n');
    if (lines.length > MAX_FILE_LINES) {
      problems.push(`src/${file.rel}: ${lines.length} lines (max ${MAX_FILE_LINES})`);
    }
    lines.forEach((text, index) => {
      if (/\bconsole\./.test(text) && file.rel !== 'lib/log.ts') {
        problems.push(`src/${file.rel}:${index + 1}: console. outside lib/log.ts; use the Logger`);
      }
      if (/\bFIXME\b/.test(text)) problems.push(`src/${file.rel}:${index + 1}: leftover FIXME`);
    });
  }
  return problems;
}

/**
 * Exports only tests reach: pure helpers tested directly instead of through their shipped caller.
 * Each should be tested through the shipped API and lose its export; this list may only shrink
 * (an entry that is no longer reported fails the test too).
 */
const TESTED_DIRECTLY = new Set([
  'src/config/keys.ts:envNameOf',
  'src/config/overrides.ts:checkOverrideValue',
  'src/config/show.ts:REDACTED',
  'src/config/suggest.ts:editDistance',
  'src/http/client-assets.ts:demoPageCsp',
  'src/http/request-gate.ts:checkRequest',
  'src/http/request-gate.ts:badSegment',
  'src/http/request-gate.ts:isJsonType',
  'src/http/request-gate.ts:readJsonBody',
  'src/http/request-log.ts:requestIdOf',
  'src/http/status-page.ts:statusPageCsp',
  'src/memory/zep/classify.ts:isRouteNotFound',
  'src/memory/zep/v2.ts:splitContent',
  'src/memory/zep/v2.ts:partUuid',
  'src/preflight/auth-key.ts:inferPemAlgorithm',
  'src/realtime/limits.ts:addressKey',
  'src/realtime/origin.ts:defaultOrigins',
  'src/realtime/validate-frame.ts:jsonErrorOffset',
  'src/storage/postgres/migrations.ts:embeddedPgTags',
  'src/storage/postgres/migrations.ts:embeddedPgMigrations',
  'src/storage/postgres/notify.ts:BREAKER_CHANNEL',
  'src/storage/postgres/notify.ts:BreakerNotice',
  'src/storage/sqlite/migrations.ts:embeddedTags',
]);

/** Exports nothing outside their file uses (tests aside), as `file:line: name …` lines. */
function deadExports(): string[] {
  const reported = unusedExports(ROOT);
  const problems = reported
    .filter((item) => !(item.testsOnly && TESTED_DIRECTLY.has(`${item.file}:${item.name}`)))
    .map(
      (item) =>
        `${item.file}:${item.line}: ${item.name} is used by ${item.testsOnly ? 'tests only' : 'nothing outside its file'}; drop the export or the code`,
    );
  const still = new Set(reported.map((item) => `${item.file}:${item.name}`));
  for (const entry of TESTED_DIRECTLY)
    if (!still.has(entry)) problems.push(`${entry}: no longer tests-only; remove it from the list`);
  return problems;
}

describe('architecture', () => {
  test('finds the source files', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  test('imports point only down the layers (type-only imports included)', () => {
    expect(layerViolations()).toEqual([]);
  });

  test('functions stay within 70 lines', () => {
    expect(longFunctions()).toEqual([]);
  });

  test('files stay within 400 lines and never use console or FIXME', () => {
    expect(lineProblems()).toEqual([]);
  });

  test('storage/sqlite and storage/postgres never import each other (type-only included)', () => {
    expect(engineViolations()).toEqual([]);
  });

  test('no import cycle anywhere in src/ (type-only imports included)', () => {
    expect(importCycles()).toEqual([]);
  });

  test('every export of src/ is used outside its file by shipped code (types included)', () => {
    expect(deadExports()).toEqual([]);
  });

  test('the import scanner sees type-only and side-effect imports', () => {
    const seen = importsOf(
      "import type { A } from '../x.ts';\nimport '../y.ts';\nexport { b } from './z.ts';",
    );
    expect(seen.map((item) => item.spec)).toEqual(['../x.ts', '../y.ts', './z.ts']);
  });

  describe('the repository stands alone', () => {
    const repo = trackedFiles(ROOT);
    const markdown = repo.filter(
      (f) => f.rel === 'README.md' || f.rel === 'client/README.md' || /^docs\/.*\.md$/.test(f.rel),
    );

    test('lists the tracked files and the documents', () => {
      expect(repo.length).toBeGreaterThan(100);
      expect(markdown.map((f) => f.rel)).toContain('docs/design.md');
    });

    test('no tracked file refers to a path or document outside the repository', () => {
      expect(outsideReferences(repo)).toEqual([]);
    });

    test('every relative link in README.md, client/README.md and docs/ resolves', () => {
      expect(brokenLinks(ROOT, markdown)).toEqual([]);
    });

    test('every docs/NAME.md#anchor citation names an existing anchor', () => {
      expect(brokenCitations(ROOT, repo)).toEqual([]);
    });
  });
});
