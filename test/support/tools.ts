/**
 * Tests that need a Debian tool (Chromium, promtool, systemd-analyze, PostgreSQL) run everywhere
 * the tool is installed. Without it they skip with a printed reason, so `npm test` works on a
 * machine with only Node.js and npm — except under CI (`CI=true`), where `.ci/run` installs the
 * tools and a missing one must fail the run instead of hiding behind a skip.
 */
import { printErr } from '../../src/lib/log.ts';

/** True when `suite` should run; `missing` says why the tool is absent, or undefined. */
export function toolReady(suite: string, missing: string | undefined): boolean {
  if (missing === undefined || process.env.CI === 'true') return true;
  printErr(`skipping ${suite}: ${missing} (CI installs it; under CI=true this fails instead)`);
  return false;
}

/** Why `command` is missing from PATH, or undefined when it is there. */
export function commandMissing(command: string, install: string): string | undefined {
  return Bun.which(command) ? undefined : `${command} is not installed (${install})`;
}
