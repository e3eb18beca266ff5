/**
 * The CLI with storage.backend = "postgres" (issue 9): check runs the PostgreSQL checks, migrate
 * applies the embedded PostgreSQL migrations, config set writes the shared overrides, token needs
 * the configured key, and backup points at pg_dump.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  databaseName,
  type PgServer,
  postgresTestsEnabled,
  startPostgres,
} from '../support/postgres.ts';
import { run, sourceCli } from '../support/spawn.ts';

const enabled = postgresTestsEnabled('cluster CLI tests');
const SECRET = 'cluster-cli-secret-0123456789abcdef-0123456';

let pg: PgServer;
let env: Record<string, string>;

function cli(args: string[], extra: Record<string, string | undefined> = {}) {
  return run([...sourceCli(), ...args], { env: { ...env, ...extra } });
}

describe.if(enabled)('CLI in postgres mode', () => {
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase(databaseName('cli'));
    env = {
      LIFELINE_STORAGE_BACKEND: 'postgres',
      LIFELINE_STORAGE_POSTGRES_URL: url,
      LIFELINE_AUTH_JWT_SECRET: SECRET,
    };
  }, 60_000);

  afterAll(async () => {
    await pg?.stop();
  });

  test('migrate applies the PostgreSQL migrations, then finds nothing to do', async () => {
    const first = await cli(['migrate']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('0004_cluster_members');
    const again = await cli(['migrate', '--status']);
    expect(again.stdout).not.toContain('pending');
  });

  test('check runs the PostgreSQL checks and refuses the development key', async () => {
    const ok = await cli(['check']);
    expect(ok.stdout + ok.stderr).toContain('listen');
    expect(ok.stdout + ok.stderr).not.toContain('data-dir');
    const noKey = await cli(['check'], { LIFELINE_AUTH_JWT_SECRET: undefined });
    expect(noKey.exitCode).not.toBe(0);
    expect(noKey.stdout + noKey.stderr).toContain('cluster-key');
  });

  test('config set stores the override in the shared database', async () => {
    expect((await cli(['config', 'set', 'breaker.failure_threshold', '7'])).exitCode).toBe(0);
    const shown = await cli(['config', 'get', 'breaker.failure_threshold']);
    expect(shown.stdout).toStartWith('7');
  });

  test('token needs the configured secret; backup points at pg_dump', async () => {
    expect((await cli(['token', '--user', 'alice'])).exitCode).toBe(0);
    const noKey = await cli(['token', '--user', 'alice'], { LIFELINE_AUTH_JWT_SECRET: undefined });
    expect(noKey.exitCode).not.toBe(0);
    expect(noKey.stderr).toContain('auth.jwt_secret');
    const backup = await cli(['backup', '/tmp/never-written.db']);
    expect(backup.exitCode).not.toBe(0);
    expect(backup.stderr).toContain('pg_dump');
  });
});
