/**
 * Startup benchmark (issue 6): time from exec of the compiled binary to `/readyz` answering 200,
 * preflight and migrations included, against a compiled hello-world `Bun.serve` binary measured
 * in the same run. Median of N runs each (default 20). Prints a table; `--write` updates the
 * "## Startup" section of docs/benchmarks.md.
 *
 *   bun bench/startup.ts [--runs 20] [--write]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { replaceSection, stats } from './report.ts';

const ROOT = resolve(import.meta.dir, '..');
const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { runs: { type: 'string', default: '20' }, write: { type: 'boolean' } },
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

function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
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
build('src/cli/main.ts', join(work, 'lifeline'));

const baseline: number[] = [];
const lifeline: number[] = [];
for (let i = 0; i < runs; i += 1) {
  const port = freePort();
  baseline.push(await timeToReady([join(work, 'hello'), String(port)], port, '/', work));
  const dataDir = join(work, `data-${i}`);
  const port2 = freePort();
  lifeline.push(
    await timeToReady(
      [join(work, 'lifeline'), 'serve', '--port', String(port2), '--data-dir', dataDir],
      port2,
      '/readyz',
      work,
    ),
  );
}
rmSync(work, { recursive: true, force: true });

const b = stats(baseline);
const l = stats(lifeline);
const table = [
  '| binary | median | p90 | min | max |',
  '|---|---:|---:|---:|---:|',
  `| hello-world \`Bun.serve\` (baseline) | ${b.median.toFixed(1)} ms | ${b.p90.toFixed(1)} ms | ${b.min.toFixed(1)} ms | ${b.max.toFixed(1)} ms |`,
  `| lifeline serve → /readyz (fresh data dir: preflight + migrations) | ${l.median.toFixed(1)} ms | ${l.p90.toFixed(1)} ms | ${l.min.toFixed(1)} ms | ${l.max.toFixed(1)} ms |`,
  '',
  `Ratio of medians: **${(l.median / b.median).toFixed(2)}×** the hello-world binary (goal: under 2×). ${runs} runs each, interleaved, ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores.`,
].join('\n');
process.stdout.write(`${table}\n`);
if (values.write)
  replaceSection('Startup', `Command: \`bun bench/startup.ts --runs ${runs}\`.\n\n${table}`);
