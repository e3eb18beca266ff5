/**
 * @module `lifeline serve`: preflight, then migrate, bind and serve until SIGTERM/SIGINT
 * (docs/design.md#cli, #preflight, #operations). A failed check exits 1 before any port is bound,
 * with the table on stderr.
 */
import { loadConfig } from '../config/load.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { createNotifier } from '../daemon/sd-notify.ts';
import { trapSignals } from '../daemon/signals.ts';
import { createLogger, printErr } from '../lib/log.ts';
import { colorWanted, formatReport } from '../preflight/report.ts';
import { SharedConnections } from '../storage/sqlite/open.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue } from './exit.ts';
import { loadForCommand, loadInputOf } from './load.ts';

/** Runs `lifeline serve` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
  // One database connection from the config's overrides through preflight to the store.
  const share = new SharedConnections();
  const outcome = await start(args, share).finally(() => share.close());
  const { logger } = outcome;
  if (outcome.kind === 'preflight_failed') {
    printErr(formatReport(outcome.preflight, { color: colorWanted(process.stderr, process.env) }));
    logger.error('preflight failed; not serving');
    return ExitCode.failed;
  }
  const reason = await trapSignals(logger);
  await outcome.daemon.stop(reason);
  return ExitCode.ok;
}

async function start(args: ParsedArgs, share: SharedConnections) {
  const loaded = await loadForCommand(args, share);
  const logger = createLogger({
    level: loaded.config?.log.level ?? 'info',
    format: loaded.config?.log.format ?? 'json',
  });
  const outcome = await startDaemon({
    loaded,
    logger,
    notifier: createNotifier(process.env, logger),
    strict: args.values.strict === true,
    reload: (overrides) => loadConfig({ ...loadInputOf(args), overrides }),
    share,
  });
  return { ...outcome, logger };
}
