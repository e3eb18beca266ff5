/**
 * @module The flag sets several commands share. Kept free of imports beyond types so the command
 * table (commands.ts) can list every command's flags without loading what the commands run.
 */
import type { OptionSpec } from './args.ts';

/** Flags every config-reading command accepts. */
export const CONFIG_FLAG: OptionSpec = { config: { type: 'string' } };

/** The flags of `serve` that set config keys (docs/design.md#cli); load.ts maps them to keys. */
export const SERVER_FLAGS: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  assistant: { type: 'string' },
};

/** The usage line of `config`, also quoted by its usage errors. */
export const CONFIG_USAGE =
  'lifeline config show [--json] | get KEY | set KEY VALUE | unset KEY  [--config FILE]';
