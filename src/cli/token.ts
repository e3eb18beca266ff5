/**
 * @module `lifeline token --user ID [--ttl 1h]`: mints an HS256 token with the configured secret,
 * or with the generated development secret kept in the database (docs/design.md#cli,
 * #configuration). For development and tests; production tokens come from the chat app's own
 * backend.
 */
import type { Config } from '../config/schema.ts';
import { ID_PATTERN, isValidId } from '../lib/ids.ts';
import { printErr, printOut } from '../lib/log.ts';
import { mintToken } from '../realtime/auth.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { ParsedArgs } from './args.ts';
import { ExitCode, type ExitCodeValue, UsageError } from './exit.ts';
import { loadValidForCommand } from './load.ts';

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration such as `90`, `30s`, `15m`, `1h` or `7d` into seconds.
 * @throws UsageError for anything else.
 */
function parseTtl(raw: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * (UNIT_S[match[2] || 's'] ?? 1) : Number.NaN;
  if (!(seconds > 0))
    throw new UsageError(`--ttl ${raw}: expected a duration like 90s, 15m, 1h or 7d`);
  return seconds;
}

/** Runs `lifeline token` (the table entry with its flags is in commands.ts). */
export async function run(args: ParsedArgs): Promise<ExitCodeValue> {
  const user = args.values.user;
  if (typeof user !== 'string') throw new UsageError('lifeline token: --user ID is required');
  if (!isValidId(user)) throw new UsageError(`--user: the user id must match ${ID_PATTERN.source}`);
  const ttlS = parseTtl(typeof args.values.ttl === 'string' ? args.values.ttl : '1h');
  const config = (await loadValidForCommand(args))?.config;
  if (!config) return ExitCode.failed;
  if (config.auth.jwt_public_key || config.auth.jwks_file) {
    printErr(
      'lifeline token: the daemon verifies with a public key; mint tokens where the private key lives',
    );
    return ExitCode.failed;
  }
  const secret = config.auth.jwt_secret ?? (await readDevSecret(config));
  if (secret === undefined) {
    printErr(
      'lifeline token: storage.backend is "postgres" and no auth.jwt_secret is set; cluster mode has no development key — set the same auth.jwt_secret on every instance',
    );
    return ExitCode.failed;
  }
  const token = await mintToken({
    secret,
    userId: user,
    ttlS,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  printOut(token);
  return ExitCode.ok;
}

/** The generated development key from the database; undefined where the engine keeps none. */
async function readDevSecret(config: Config): Promise<string | undefined> {
  const storage = await openStorage({ config });
  try {
    if (storage.devJwtSecret === undefined) return undefined;
    await storage.migrate();
    return storage.devJwtSecret();
  } finally {
    await storage.close();
  }
}
