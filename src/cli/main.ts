/**
 * @module Entry point: parse → dispatch → set process.exitCode. Nothing else lives here.
 */
import { suggest } from '../config/suggest.ts';
import { describeError } from '../lib/errors.ts';
import { printErr, printOut } from '../lib/log.ts';
import { parseFlags } from './args.ts';
import type { Command } from './command.ts';
import { COMMANDS } from './commands.ts';
import { ExitCode, type ExitCodeValue, UsageError } from './exit.ts';

/** Top-level help: every command with its summary. */
function renderHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return [
    'lifeline: keeps chat sessions alive through reconnects and memory outages',
    '',
    'usage: lifeline <command> [flags]   (lifeline <command> --help for its flags)',
    '',
    'commands:',
    ...lines,
  ].join('\n');
}

function renderCommandHelp(command: Command): string {
  const flags = Object.entries(command.options).map(([name, spec]) => {
    const value = spec.type === 'string' ? ` <${name.toUpperCase().replace(/-/g, '_')}>` : '';
    return `  --${name}${value}`;
  });
  return [
    `usage: ${command.usage}`,
    '',
    command.summary,
    command.help ?? '',
    'flags:',
    ...flags,
    '  --help',
  ]
    .filter((line, index) => line !== '' || index === 1)
    .join('\n');
}

/** Runs the CLI with `argv` (without the executable) and returns the exit code. */
async function runCli(argv: string[]): Promise<ExitCodeValue> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    printOut(renderHelp());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    const near = suggest(
      name,
      COMMANDS.map((candidate) => candidate.name),
    );
    printErr(`lifeline: unknown command "${name}"${near ? `; did you mean "${near}"?` : ''}`);
    printErr('run "lifeline --help" for the list of commands');
    return ExitCode.usage;
  }
  try {
    const args = parseFlags(command.name, rest, command.options);
    if (args.values.help) {
      printOut(renderCommandHelp(command));
      return ExitCode.ok;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      printErr(error.message);
      return ExitCode.usage;
    }
    printErr(`lifeline ${command.name}: ${describeError(error)}`);
    return ExitCode.failed;
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2));
  process.exitCode = code;
}
