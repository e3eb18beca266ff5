/**
 * Helpers shared by the benchmarks: summary statistics and updating one section of
 * docs/benchmarks.md without touching the others.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Summary of a sample in the sample's unit. */
export interface Stats {
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Percentiles by nearest rank. */
export function stats(sample: readonly number[]): Stats {
  const sorted = [...sample].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  return {
    median: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    mean,
  };
}

/** Formats docs/benchmarks.md the way CI's lint expects (Biome aligns Markdown tables). */
function formatDocs(path: string): void {
  Bun.spawnSync(['npx', 'biome', 'format', '--write', path], {
    stdout: 'ignore',
    stderr: 'ignore',
  });
}

/** Replaces (or appends) the `## <title>` section of docs/benchmarks.md, then formats the file. */
export function replaceSection(title: string, body: string): void {
  const path = resolve(import.meta.dir, '..', 'docs', 'benchmarks.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const heading = `## ${title}`;
  const start = text.indexOf(`${heading}\n`);
  const section = `${heading}\n\n${body.trim()}\n`;
  if (start === -1) {
    writeFileSync(path, `${text.trimEnd()}\n\n${section}`);
    formatDocs(path);
    return;
  }
  const next = text.indexOf('\n## ', start + heading.length);
  writeFileSync(path, `${text.slice(0, start)}${section}${next === -1 ? '' : text.slice(next)}`);
  formatDocs(path);
}
