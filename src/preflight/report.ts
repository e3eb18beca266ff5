/**
 * @module Renderings of a preflight run (docs/design.md#preflight): a readable table for people,
 * with colour only on a terminal, and JSON for `--json`. Pure functions returning strings; the CLI
 * prints them.
 */
import type { CheckResult, CheckStatus } from './check.ts';
import type { CheckRun } from './run.ts';

/** Options for {@link formatReport}. */
interface ReportOptions {
  /** Colour the status column; pass the result of {@link colorWanted}. Default false. */
  color?: boolean;
}

const LABEL: Record<CheckStatus, string> = { ok: 'OK', warn: 'WARN', fail: 'FAIL' };
const ANSI: Record<CheckStatus, string> = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' };
const ANSI_DIM = '\x1b[2m';
const ANSI_RESET = '\x1b[0m';

/**
 * Renders the run as a table: one row per check (status, name, duration, detail), the fix line
 * under every warn and fail, any extra items indented, then a one-line summary.
 *
 * @example
 * ```
 * OK    config     0.4 ms  lifeline.toml is valid
 * FAIL  port       1.1 ms  127.0.0.1:7400 is already in use
 *                          fix: stop the other process or set server.port
 * ```
 */
export function formatReport(run: CheckRun, options: ReportOptions = {}): string {
  const color = options.color ?? false;
  const nameWidth = Math.max(4, ...run.results.map((r) => r.name.length));
  const durations = run.results.map((r) => formatDuration(r.durationMs));
  const durationWidth = Math.max(0, ...durations.map((d) => d.length));
  const indent = ' '.repeat(6 + nameWidth + 2 + durationWidth + 2);
  const lines: string[] = [];
  run.results.forEach((result, index) => {
    const label = paint(LABEL[result.status].padEnd(4), ANSI[result.status], color);
    const duration = (durations[index] ?? '').padStart(durationWidth);
    lines.push(`${label}  ${result.name.padEnd(nameWidth)}  ${duration}  ${result.detail}`);
    for (const item of result.items ?? []) lines.push(`${indent}- ${item}`);
    if (result.fix !== undefined) lines.push(paint(`${indent}fix: ${result.fix}`, ANSI_DIM, color));
  });
  lines.push(summarize(run, color));
  return `${lines.join('\n')}\n`;
}

/** Renders the run for `--json`: `{ ok, strict, results: [{name, status, detail, fix?, durationMs, items?}] }`. */
export function formatReportJson(run: CheckRun): string {
  const results = run.results.map(orderFields);
  return `${JSON.stringify({ ok: run.ok, strict: run.strict, results }, null, 2)}\n`;
}

/**
 * Whether to colour output written to a stream: only on a terminal, and never when `NO_COLOR` is
 * set (no-color.org) or `TERM=dumb`.
 */
export function colorWanted(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

function summarize(run: CheckRun, color: boolean): string {
  const count = (status: CheckStatus) => run.results.filter((r) => r.status === status).length;
  const failed = count('fail');
  const warned = count('warn');
  const strict = run.strict ? ' (--strict)' : '';
  if (failed === 0 && warned === 0) {
    return paint(`all ${run.results.length} checks passed${strict}`, ANSI.ok, color);
  }
  const text = `${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}, ${count('ok')} ok${strict}`;
  return paint(text, failed > 0 ? ANSI.fail : ANSI.warn, color);
}

/** Stable key order in JSON, whatever order the check built its object in. */
function orderFields(result: CheckResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: result.name,
    status: result.status,
    detail: result.detail,
  };
  if (result.fix !== undefined) out.fix = result.fix;
  if (result.items !== undefined) out.items = result.items;
  out.durationMs = result.durationMs;
  return out;
}

function formatDuration(durationMs: number): string {
  if (durationMs < 10) return `${durationMs.toFixed(1)} ms`;
  if (durationMs < 10_000) return `${Math.round(durationMs)} ms`;
  return `${(durationMs / 1000).toFixed(1)} s`;
}

function paint(text: string, code: string, color: boolean): string {
  return color ? `${code}${text}${ANSI_RESET}` : text;
}
