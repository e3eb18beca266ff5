/**
 * @module The one ordered list of preflight checks, from every layer. `check` and `serve` run
 * this same list through the same runner, so a check cannot pass in one and fail in the other
 * (Caddy's validate-is-startup-minus-start; docs/design.md#check-equals-startup).
 */

import { assistantCheck } from '../assistant/checks.ts';
import type { ConfigIssue } from '../config/issue.ts';
import type { Config } from '../config/schema.ts';
import { assetsCheck } from '../http/checks.ts';
import { authKeyCheck } from '../preflight/auth-key.ts';
import { type Check, fail } from '../preflight/check.ts';
import { configCheck, portCheck } from '../preflight/checks.ts';
import { storageChecks } from '../storage/open-storage.ts';
import type { SharedConnections } from '../storage/sqlite/open.ts';
import { httpOptionsOf } from './assistant.ts';
import { usesDevKey } from './auth.ts';
import { memoryPreflightCheck } from './memory.ts';

/** Options for {@link preflightChecks}. */
interface PreflightOptions {
  /** Whether to check that the port can be bound (serve and check do; migrate does not). */
  checkPort: boolean;
  /** `serve`: one connection for the checks and the store (src/storage/sqlite/open.ts). */
  share?: SharedConnections;
}

/** Builds every check for `config`; with no config only the config check can run. */
export function preflightChecks(
  config: Config | undefined,
  issues: readonly ConfigIssue[],
  options: PreflightOptions,
): Check[] {
  const checks: Check[] = [configCheck({ issues })];
  if (!config) return [...checks, ...skipped(['auth-key', 'data-dir', 'database', 'migrations'])];
  const engine = storageChecks(config, { devKey: usesDevKey(config), share: options.share });
  checks.push(
    authKeyCheck({
      jwtSecret: config.auth.jwt_secret,
      jwtPublicKey: config.auth.jwt_public_key,
      jwksFile: config.auth.jwks_file,
    }),
    ...engine.storage,
  );
  if (options.checkPort)
    checks.push(portCheck({ host: config.server.host, port: config.server.port }));
  checks.push(...engine.disk, memoryPreflightCheck(config, options.share), assetsCheck());
  if (config.assistant.backend === 'http') checks.push(assistantCheck(httpOptionsOf(config)));
  return checks;
}

function skipped(names: string[]): Check[] {
  return names.map((name) => ({
    name,
    run: async () => fail('not run: the config did not load', 'fix the config errors above first'),
  }));
}
