/**
 * @module `lifeline version`: version, git commit, build date and Bun version.
 */
import { buildInfo } from '../lib/build-info.ts';
import { printOut } from '../lib/log.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue } from './exit.ts';

/** Runs `lifeline version` (the table entry with its flags is in commands.ts). */
export async function run({ values }: ParsedArgs): Promise<ExitCodeValue> {
  const info = buildInfo();
  if (values.json) printOut(JSON.stringify(info));
  else {
    printOut(
      `lifeline ${info.version} (commit ${info.commit}, built ${info.buildDate}, bun ${info.bunVersion})`,
    );
  }
  return ExitCode.ok;
}
