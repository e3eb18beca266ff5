/**
 * Runs every benchmark in sequence (never in parallel: they share the two cores): breaker, outbox,
 * startup, verify-cache, ws, client, client-stream, assistant, and (with --write only, as it always writes) cluster, which
 * needs Debian's PostgreSQL. `--write` lets each update its section of
 * docs/benchmarks.md; without it nothing is written (breaker and outbox write by default, so they
 * get `--no-write`). Stops at the first benchmark that fails.
 *
 *   bun bench/run-all.ts [--write]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { printErr } from '../src/lib/log.ts';

const write = Bun.argv.includes('--write');
/** Scripts whose default is to write (opt out with --no-write) vs to print only (opt in with --write). */
const WRITES_BY_DEFAULT = new Set(['breaker.ts', 'outbox.ts']);
/** Scripts that always write and take no write flag. */
const ALWAYS_WRITE = new Set(['cluster.ts']);
const SCRIPTS = [
  'breaker.ts',
  'outbox.ts',
  'startup.ts',
  'verify-cache.ts',
  'ws.ts',
  'client.ts',
  'client-stream.ts',
  'assistant.ts',
];
if (write) SCRIPTS.push('cluster.ts');

for (const script of SCRIPTS) {
  const path = join(import.meta.dir, script);
  if (!existsSync(path)) continue;
  const flag = ALWAYS_WRITE.has(script)
    ? []
    : WRITES_BY_DEFAULT.has(script)
      ? write
        ? []
        : ['--no-write']
      : write
        ? ['--write']
        : [];
  printErr(`== bench/${script} ${flag.join(' ')}`);
  const proc = Bun.spawnSync([process.execPath, path, ...flag], {
    stdout: 'inherit',
    stderr: 'inherit',
  });
  if (proc.exitCode !== 0) {
    printErr(`bench/${script} failed with exit code ${proc.exitCode}`);
    process.exit(proc.exitCode ?? 1);
  }
}
