/**
 * @module The shape of one CLI command (Caddy's Command record): it returns an exit code and
 * never exits the process itself.
 */
import type { OptionSpec, ParsedArgs } from './args.ts';
import type { ExitCodeValue } from './exit.ts';

/** What a command does once its flags are parsed. */
export type CommandRun = (args: ParsedArgs) => Promise<ExitCodeValue>;

/** One entry of the command table. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Extra lines of help after the usage line. */
  help?: string;
  options: OptionSpec;
  run: CommandRun;
}
