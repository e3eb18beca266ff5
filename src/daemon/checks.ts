/**
 * @module The one ordered list of preflight checks, from every layer. `check` and `serve` run
 * this same list through the same runner, so a check cannot pass in one and fail in the other
 * (Caddy's validate-is-startup-minus-start; docs/design.md#check-equals-startup).
 */
import type { ConfigIssue } from '../config/issue.ts';
import type { Config } from '../config/schema.ts';
import { assetsCheck } from '../http/checks.ts';
import { authKeyCheck } from '../preflight/auth-key.ts';
import { type Check, fail, pass } from '../preflight/check.ts';
import { configCheck, dataDirCheck, diskSpaceCheck, portCheck } from '../preflight/checks.ts';
import { databaseCheck, migrationsCheck } from '../storage/sqlite/checks.ts';
import { usesDevKey } from './auth.ts';
import { databasePath } from './config.ts';
import { memoryPreflightCheck } from './memory.ts';

/** Options for {@link preflightChecks}. */
export interface PreflightOptions {
  /** Whether to check that the port can be bound (serve and check do; migrate does not). */
  checkPort: boolean;
}

/** Builds every check for `config`; with no config only the config check can run. */
export function preflightChecks(
  config: Config | undefined,
  issues: readonly ConfigIssue[],
  options: PreflightOptions,
): Check[] {
  const checks: Check[] = [configCheck({ issues })];
  if (!config) return [...checks, ...skipped(['auth-key', 'data-dir', 'database', 'migrations'])];
  const postgresUrl =
    config.storage.backend === 'postgres' ? config.storage.postgres.url : undefined;
  const dbPath = databasePath(config);
  checks.push(
    authKeyCheck({
      jwtSecret: config.auth.jwt_secret,
      jwtPublicKey: config.auth.jwt_public_key,
      jwksFile: config.auth.jwks_file,
    }),
  );
  if (postgresUrl !== undefined) {
    // Cluster mode keeps nothing in the data directory: no data-dir or disk check (decision).
    checks.push(clusterKeyCheck(config), ...lazyPgChecks(postgresUrl));
  } else {
    checks.push(
      dataDirCheck({ dataDir: config.server.data_dir }),
      databaseCheck({ dbPath }),
      migrationsCheck({ dbPath }),
    );
  }
  if (options.checkPort)
    checks.push(portCheck({ host: config.server.host, port: config.server.port }));
  if (postgresUrl === undefined) {
    checks.push(
      diskSpaceCheck({
        dataDir: config.server.data_dir,
        minFreeDiskMb: config.preflight.min_free_disk_mb,
      }),
    );
  }
  checks.push(memoryPreflightCheck(config), assetsCheck());
  return checks;
}

/**
 * Cluster mode: every instance must verify the same tokens, so the key is configured, not the
 * development key a single database would generate (decision, docs/cluster.md).
 */
function clusterKeyCheck(config: Config): Check {
  return {
    name: 'cluster-key',
    run: async () =>
      usesDevKey(config)
        ? fail(
            'storage.backend = "postgres" needs a configured token key; the generated development key is SQLite-only',
            'set auth.jwt_secret (or auth.jwt_public_key / auth.jwks_file) to the same value on every instance',
          )
        : pass('every instance verifies tokens with the configured key'),
  };
}

function skipped(names: string[]): Check[] {
  return names.map((name) => ({
    name,
    run: async () => fail('not run: the config did not load', 'fix the config errors above first'),
  }));
}

/**
 * The PostgreSQL checks (database, migrations, listen), loaded on first run so that SQLite mode
 * never loads the PostgreSQL modules.
 */
function lazyPgChecks(url: string): Check[] {
  const loaded = import('../storage/postgres/checks.ts').then(({ pgChecks }) => pgChecks({ url }));
  loaded.catch(() => {});
  return ['database', 'migrations', 'listen'].map((name, index) => ({
    name,
    run: async (ctx) => {
      const check = (await loaded)[index];
      if (!check || check.name !== name) throw new Error(`PostgreSQL check ${name} is missing`);
      return check.run(ctx);
    },
  }));
}
