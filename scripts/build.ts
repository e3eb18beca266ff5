/**
 * Builds the single binary: `bun scripts/build.ts [--outfile dist/lifeline]`.
 * Flags per docs/runtime.md#build-flags: minified, bytecode (needs ESM), split into a chunk per
 * dynamic import (the CLI loads each command's code on demand), embedded source map so
 * stack traces name our files, and no autoloading of `.env` / `bunfig.toml` from the working
 * directory (a daemon's behaviour must not depend on where it was started).
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { outfile: { type: 'string', default: 'dist/lifeline' } },
});

const commit = Bun.spawnSync(['git', 'rev-parse', '--short=12', 'HEAD'], { stderr: 'ignore' });
const commitText = commit.exitCode === 0 ? commit.stdout.toString().trim() : 'unknown';
const dirty = Bun.spawnSync(['git', 'status', '--porcelain', '--untracked-files=no'], {
  stderr: 'ignore',
});
const dirtySuffix = dirty.exitCode === 0 && dirty.stdout.toString().trim() ? '-dirty' : '';

const args = [
  'build',
  '--compile',
  '--minify',
  '--sourcemap',
  '--bytecode',
  '--format=esm',
  // One chunk per dynamic import: each command's modules are parsed only when it runs, so
  // `version` and `--help` skip the daemon's libraries (docs/benchmarks.md, Startup).
  '--splitting',
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
  // Bun's own header limit (431, empty body) sits above the request gate's 16 KiB, so a request
  // with large headers gets the gate's 431 with the error envelope (src/http/request-gate.ts).
  '--compile-exec-argv=--max-http-header-size=65536',
  `--define=LIFELINE_GIT_COMMIT=${JSON.stringify(commitText + dirtySuffix)}`,
  `--define=LIFELINE_BUILD_DATE=${JSON.stringify(new Date().toISOString())}`,
  'src/cli/main.ts',
  '--outfile',
  values.outfile,
];
const started = performance.now();
const proc = Bun.spawnSync([process.execPath, ...args], { stdout: 'inherit', stderr: 'inherit' });
if (proc.exitCode !== 0) process.exit(proc.exitCode ?? 1);
const size = Bun.file(values.outfile).size;
process.stdout.write(
  `built ${values.outfile}: ${(size / 1024 / 1024).toFixed(1)} MiB in ${Math.round(performance.now() - started)} ms\n`,
);
