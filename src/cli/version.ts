/**
 * @module `lifeline version`: version, git commit, build date and Bun version.
 */
import { buildInfo } from '../lib/build-info.ts';
import { printOut } from '../lib/log.ts';
import type { Command } from './command.ts';
import { ExitCode } from './exit.ts';

/** The version command. */
export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version, git commit, build date and Bun version',
  usage: 'lifeline version [--json]',
  options: { json: { type: 'boolean' } },
  run: async ({ values }) => {
    const info = buildInfo();
    if (values.json) printOut(JSON.stringify(info));
    else {
      printOut(
        `lifeline ${info.version} (commit ${info.commit}, built ${info.buildDate}, bun ${info.bunVersion})`,
      );
    }
    return ExitCode.ok;
  },
};
