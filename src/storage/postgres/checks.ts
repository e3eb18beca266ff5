/**
 * @module Preflight checks of a PostgreSQL database (docs/design.md#preflight, cluster mode §7):
 * the server answers and takes writes, its version is supported, the migrations are applied /
 * pending / newer than this binary, and the role can LISTEN (a NOTIFY makes the round trip, which
 * also catches a transaction-pooling proxy that accepts LISTEN but never delivers). Nothing is
 * written.
 */
import { describeError } from '../../lib/errors.ts';
import { type Check, type CheckOutcome, fail, pass } from '../../preflight/check.ts';
import { classifyPgError, redactUrl } from './errors.ts';
import { probePgWrite } from './maintenance.ts';
import { pgMigrationStatus } from './migrations.ts';
import { openPgPool, type PgHandle } from './open.ts';

/** The oldest PostgreSQL major version lifeline supports. */
export const MIN_SERVER_VERSION = 13;
/** How long the LISTEN check waits for its own notification. */
export const LISTEN_ROUND_TRIP_MS = 3000;

/** What the PostgreSQL checks need. */
export interface PgCheckOptions {
  /** storage.postgres.url; a secret, never printed unredacted. */
  url: string;
}

async function withPool<T>(url: string, use: (handle: PgHandle) => Promise<T>): Promise<T> {
  const handle = openPgPool(url, redactUrl(url), {
    poolSize: 1,
    applicationName: 'lifeline-check',
  });
  try {
    return await use(handle);
  } finally {
    await handle.close(1);
  }
}

function unreachable(url: string, error: unknown): CheckOutcome {
  const failure = classifyPgError(error);
  const why = failure?.reason ?? describeError(error);
  return fail(
    `${redactUrl(url)}: ${why}`,
    'check storage.postgres.url, that PostgreSQL is up, and that this host may connect (pg_hba.conf)',
  );
}

async function serverFacts(handle: PgHandle) {
  const [row] = await handle.sql`SELECT current_setting('server_version_num')::int AS num,
    current_setting('server_version') AS text, pg_is_in_recovery() AS standby,
    to_regclass('public.meta') IS NOT NULL AS migrated`;
  return row as { num: number; text: string; standby: boolean; migrated: boolean };
}

/** The `database` check on PostgreSQL: answers, supported version, primary, takes writes. */
export function pgDatabaseCheck(input: PgCheckOptions): Check {
  return {
    name: 'database',
    async run() {
      const label = redactUrl(input.url);
      try {
        return await withPool(input.url, async (handle) => {
          const facts = await serverFacts(handle);
          const major = Math.floor(facts.num / 10000);
          if (major < MIN_SERVER_VERSION) {
            return fail(
              `${label} runs PostgreSQL ${facts.text}; lifeline needs ${MIN_SERVER_VERSION} or newer`,
              `upgrade the server to PostgreSQL ${MIN_SERVER_VERSION}+`,
            );
          }
          if (facts.standby) {
            return fail(
              `${label} is a read-only standby`,
              'point storage.postgres.url at the primary (or the read-write service address)',
            );
          }
          if (facts.migrated) {
            const probe = await probePgWrite(handle.sql);
            if (!probe.ok) {
              return fail(
                `${label} does not take writes: ${probe.reason}`,
                'grant the role INSERT/UPDATE/DELETE on lifeline’s tables',
              );
            }
          }
          const detail = facts.migrated ? 'answers and takes writes' : 'answers (empty database)';
          return pass(`${label} ${detail}, PostgreSQL ${facts.text}`);
        });
      } catch (error) {
        return unreachable(input.url, error);
      }
    },
  };
}

/** The `migrations` check on PostgreSQL: applied, pending (serve applies them) or newer (fail). */
export function pgMigrationsCheck(input: PgCheckOptions): Check {
  return {
    name: 'migrations',
    async run() {
      try {
        return await withPool(input.url, async (handle) => {
          const status = await pgMigrationStatus(handle);
          if (status.newerThanBinary) {
            return fail(
              `the database was migrated by a newer lifeline (${new Date(status.dbLatestMillis ?? 0).toISOString()})`,
              'run the newer lifeline binary on every instance, or restore a backup made by this version',
            );
          }
          if (status.applied.length === 0)
            return pass('new database; serve applies every migration');
          if (status.pending.length > 0) {
            return pass(
              `${status.applied.length} applied, ${status.pending.length} pending (serve applies them): ${status.pending.join(', ')}`,
            );
          }
          return pass(`all ${status.applied.length} migrations applied`);
        });
      } catch (error) {
        return unreachable(input.url, error);
      }
    },
  };
}

async function roundTrip(handle: PgHandle, signal: AbortSignal | undefined): Promise<boolean> {
  const channel = `lifeline_check_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const token = crypto.randomUUID();
  let arrived: (ok: boolean) => void = () => {};
  const outcome = new Promise<boolean>((resolve) => {
    arrived = resolve;
  });
  const subscription = await handle.sql.listen(channel, (payload) => {
    if (payload === token) arrived(true);
  });
  const timer = setTimeout(() => arrived(false), LISTEN_ROUND_TRIP_MS);
  signal?.addEventListener('abort', () => arrived(false), { once: true });
  try {
    await handle.sql.notify(channel, token);
    return await outcome;
  } finally {
    clearTimeout(timer);
    await subscription.unlisten();
  }
}

/** The `listen` check: the role can LISTEN and a NOTIFY comes back (cluster fan-out needs it). */
export function pgListenCheck(input: PgCheckOptions): Check {
  return {
    name: 'listen',
    async run(ctx) {
      try {
        return await withPool(input.url, async (handle) => {
          const ok = await roundTrip(handle, ctx?.signal);
          if (ok) return pass('LISTEN works and a NOTIFY comes back');
          return fail(
            `a NOTIFY did not come back within ${LISTEN_ROUND_TRIP_MS} ms`,
            'connect lifeline to PostgreSQL directly or through a session-pooling proxy (PgBouncer transaction pooling drops LISTEN)',
          );
        });
      } catch (error) {
        const failure = classifyPgError(error);
        if (failure !== null) return unreachable(input.url, error);
        return fail(
          `LISTEN failed: ${describeError(error)}`,
          'use a role and server that allow LISTEN (not a standby; not through transaction pooling)',
        );
      }
    },
  };
}

/** Every PostgreSQL check, in report order. */
export function pgChecks(input: PgCheckOptions): Check[] {
  return [pgDatabaseCheck(input), pgMigrationsCheck(input), pgListenCheck(input)];
}
