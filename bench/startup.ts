/**
 * Startup benchmark (issue 6): time from exec of the compiled binary to `/readyz` answering 200,
 * preflight and migrations included, against a compiled hello-world `Bun.serve` binary measured
 * in the same run. lifeline is built by scripts/build.ts (the release flags); the hello-world
 * binary with the same bytecode flags. Two lifeline rows: a fresh data dir each run (migrations
 * applied) and an existing one (migrations already applied); and `lifeline version` / `--help`,
 * exec → exit, against an empty compiled binary. Runs are interleaved; median of N
 * runs each (default 20). Prints a table; `--write` updates the "## Startup" section of
 * docs/benchmarks.md.
 *
 *   bun bench/startup.ts [--runs 20] [--binary dist/lifeline] [--write]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { replaceSection, stats } from './report.ts';

const ROOT = resolve(import.meta.dir, '..');
const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    runs: { type: 'string', default: '20' },
    binary: { type: 'string' },
    write: { type: 'boolean' },
  },
});
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'lifeline-bench-startup-'));

function build(entry: string, out: string): void {
  const args = [
    'build',
    '--compile',
    '--minify',
    '--bytecode',
    '--format=esm',
    entry,
    '--outfile',
    out,
  ];
  const proc = Bun.spawnSync([process.execPath, ...args], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
  });
  if (proc.exitCode !== 0) throw new Error(`build of ${entry} failed`);
}

function buildLifeline(out: string): string {
  if (values.binary) return resolve(values.binary);
  const proc = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', out], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
  });
  if (proc.exitCode !== 0) throw new Error('build of lifeline failed');
  return out;
}

function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Exec → exit of a command whose output is ignored (`version`, `--help`). */
async function timeToExit(cmd: string[], cwd: string): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { cwd, stdout: 'ignore', stderr: 'ignore', env: { PATH: '' } });
  await proc.exited;
  return performance.now() - started;
}

async function timeToReady(
  cmd: string[],
  port: number,
  path: string,
  cwd: string,
): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, {
    cwd,
    stdout: 'ignore',
    stderr: 'ignore',
    env: { PATH: process.env.PATH ?? '' },
  });
  try {
    for (;;) {
      const answer = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      if (answer?.status === 200) return performance.now() - started;
      if (performance.now() - started > 10_000) throw new Error(`${cmd[0]} never became ready`);
      await Bun.sleep(1);
    }
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
  }
}

const hello = join(work, 'hello.ts');
writeFileSync(
  hello,
  "Bun.serve({ hostname: '127.0.0.1', port: Number(process.argv[2]), fetch: () => new Response('ok') });\n",
);
build(hello, join(work, 'hello'));
const empty = join(work, 'empty.ts');
writeFileSync(empty, 'export {};\n');
build(empty, join(work, 'empty'));
const binary = buildLifeline(join(work, 'lifeline'));

function serveLifeline(dataDir: string): Promise<number> {
  const port = freePort();
  const cmd = [binary, 'serve', '--port', String(port), '--data-dir', dataDir];
  return timeToReady(cmd, port, '/readyz', work);
}

const baseline: number[] = [];
const fresh: number[] = [];
const existing: number[] = [];
const version: number[] = [];
const help: number[] = [];
const helloExit: number[] = [];
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
await serveLifeline(join(work, 'data-existing'));
for (let i = 0; i < runs; i += 1) {
  const port = freePort();
  baseline.push(await timeToReady([join(work, 'hello'), String(port)], port, '/', work));
  fresh.push(await serveLifeline(join(work, `data-${i}`)));
  existing.push(await serveLifeline(join(work, 'data-existing')));
  version.push(await timeToExit([binary, 'version'], work));
  help.push(await timeToExit([binary, '--help'], work));
  helloExit.push(await timeToExit([join(work, 'empty')], work));
}
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
rmSync(work, { recursive: true, force: true });

const row = (label: string, sample: number[], base: number[] = baseline) => {
  const s = stats(sample);
  const b = stats(base);
  const ratio = sample === base ? '1.00×' : `**${(s.median / b.median).toFixed(2)}×**`;
  return `| ${label} | ${s.median.toFixed(1)} ms | ${s.p90.toFixed(1)} ms | ${s.min.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${ratio} |`;
};
const table = [
  '| binary | median | p90 | min | max | vs hello-world (medians) |',
  '|---|---:|---:|---:|---:|---:|',
  row('hello-world `Bun.serve` (baseline)', baseline),
  row('lifeline serve → /readyz, fresh data dir (preflight + migrations)', fresh),
  row('lifeline serve → /readyz, existing data dir (migrations applied)', existing),
  '',
  '| command, exec → exit | median | p90 | min | max | vs empty binary (medians) |',
  '|---|---:|---:|---:|---:|---:|',
  row('empty compiled binary (baseline)', helloExit, helloExit),
  row('`lifeline version`', version, helloExit),
  row('`lifeline --help`', help, helloExit),
  '',
  `Goals: serve → /readyz ≤ 50 ms, \`version\` and \`--help\` ≤ 30 ms. ${runs} runs each, interleaved, ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores; load average before ${loadBefore}, after ${loadAfter}.`,
].join('\n');
/** Where the time goes, from throwaway probe binaries (kept here so `--write` keeps it). */
const BREAKDOWN = `Where the time goes now: see "Startup and the connect path, profiled (issue 18)" below, which also
lists each change with its measured effect and the commands that reproduce it.`;
process.stdout.write(`${table}\n`);
if (values.write)
  replaceSection(
    'Startup',
    `Command: \`bun bench/startup.ts --runs ${runs}\`.\n\n${table}\n\n${BREAKDOWN}`,
  );
