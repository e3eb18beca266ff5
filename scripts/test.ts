/**
 * The test command (`npm test`): builds the binary once for the end-to-end tests, runs every test
 * file isolated from the others, and ends with the one line CI reads: `N passed, N failed`.
 * bun test's own summary goes to stderr in a form CI does not recognise (docs/runtime.md#bun-test),
 * so the counts come from its JUnit report.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = join(import.meta.dir, '..', '.test-results');
const junitPath = join(resultsDir, 'junit.xml');
mkdirSync(resultsDir, { recursive: true });
rmSync(junitPath, { force: true });

const binary = join(import.meta.dir, '..', 'dist', 'lifeline');
const build = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', binary], {
  stdout: 'inherit',
  stderr: 'inherit',
});
if (build.exitCode !== 0) {
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}

const proc = Bun.spawn(
  [
    process.execPath,
    'test',
    '--isolate',
    // bunfig.toml's [test] timeout is not applied by bun 1.4.5 (checked); the flag is.
    '--timeout=20000',
    '--reporter=junit',
    `--reporter-outfile=${junitPath}`,
    ...Bun.argv.slice(2),
  ],
  { stdout: 'inherit', stderr: 'inherit', env: { ...process.env, TEST_LIFELINE_BINARY: binary } },
);
const exitCode = await proc.exited;

let tests = 0;
let failures = 0;
let skipped = 0;
try {
  const xml = readFileSync(junitPath, 'utf8');
  const head = /<testsuites\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
  tests = attr('tests');
  failures = attr('failures');
  skipped = attr('skipped');
} catch {
  // No report: the runner died before writing it; counted below as one failure.
}
// An error outside any test (e.g. an unhandled rejection between tests) fails the run without
// failing a test case; count it so the closing line never says "0 failed" for a red run.
if (exitCode !== 0 && failures === 0) failures = 1;
const passed = Math.max(0, tests - failures - skipped);
process.stdout.write(
  `\n${passed} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(exitCode !== 0 || failures > 0 ? 1 : 0);
