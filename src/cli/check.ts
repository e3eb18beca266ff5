/**
 * @module `lifeline check`: the preflight alone (docs/design.md#preflight). Exit 0 when nothing
 * failed, 1 otherwise.
 */
import { preflightChecks } from '../daemon/checks.ts';
import { printOut } from '../lib/log.ts';
import { colorWanted, formatReport, formatReportJson } from '../preflight/report.ts';
import { runChecks } from '../preflight/run.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue } from './exit.ts';
import { loadForCommand } from './load.ts';

/** Runs `lifeline check` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
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
}
