/**
 * @module `lifeline check`: the preflight alone (docs/design.md#preflight). Exit 0 when nothing
 * failed, 1 otherwise.
 */
import { preflightChecks } from '../daemon/checks.ts';
import { printOut } from '../lib/log.ts';
import { colorWanted, formatReport, formatReportJson } from '../preflight/report.ts';
import { runChecks } from '../preflight/run.ts';
import type { Command } from './command.ts';
import { ExitCode } from './exit.ts';
import { CONFIG_FLAG, loadForCommand, SERVER_FLAGS } from './load.ts';

/** The check command. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'run the pre-flight self-check without starting (exit 1 if a check fails)',
  usage: 'lifeline check [--config FILE] [--json] [--strict]',
  help: '--strict turns the memory-service warnings into failures.',
  options: {
    ...CONFIG_FLAG,
    ...SERVER_FLAGS,
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
  },
  run: async (args) => {
    const loaded = await loadForCommand(args);
    const strict = args.values.strict === true;
    const checks = preflightChecks(loaded.config, loaded.issues, { checkPort: true });
    const result = await runChecks(checks, { strict });
    printOut(
      args.values.json
        ? formatReportJson(result)
        : formatReport(result, { color: colorWanted(process.stdout, process.env) }),
    );
    return result.ok ? ExitCode.ok : ExitCode.failed;
  },
};
