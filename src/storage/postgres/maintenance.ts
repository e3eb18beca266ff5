/**
 * @module PostgreSQL: epoch, consistency checks and the write probe used by preflight and /readyz.
 * PostgreSQL has no VACUUM INTO: backups of a cluster-mode database are the operator's
 * PostgreSQL backups (pg_dump, base backups, the provider's snapshots).
 */
import type { SQL } from 'bun';
import { describeError, LifelineError } from '../../lib/errors.ts';
import type { CheckOutcome, StorageHealth } from '../store.ts';

/** The tables lifeline reads and writes; every one must answer a read. */
const PG_TABLES = [
  'meta',
  'runtime_overrides',
  'runtime_config_audit',
  'breaker_state',
  'threads',
  'user_preferences',
  'thread_personalization',
  'messages',
  'user_seq',
  'history',
] as const;

/** Most problems a consistency check reports. */
const MAX_CHECK_PROBLEMS = 10;

/**
 * The database's epoch.
 * @throws LifelineError `storage_not_migrated` when the meta row is missing.
 */
export async function readEpoch(q: SQL): Promise<string> {
  const [row] = await q`SELECT value FROM meta WHERE key = 'epoch'`;
  if (row === undefined) {
    throw new LifelineError('storage_not_migrated', 'the database has no epoch', {
      fix: 'run `lifeline migrate`',
    });
  }
  return (row as { value: string }).value;
}

/** Refuses a backup: cluster-mode data is backed up with PostgreSQL's own tools. */
export function backupUnsupported(): LifelineError {
  return new LifelineError(
    'backup_unsupported',
    '`lifeline backup` copies the SQLite database; this instance stores its data in PostgreSQL',
    { fix: 'back up the PostgreSQL database with pg_dump or your provider’s backups' },
  );
}

/** quick: every table answers a read. full: also the seq invariants hold. */
export async function runPgCheck(q: SQL, full: boolean): Promise<CheckOutcome> {
  const problems: string[] = [];
  for (const table of PG_TABLES) {
    try {
      await q.unsafe(`SELECT 1 FROM "${table}" LIMIT 1`);
    } catch (error) {
      problems.push(`${table}: ${describeError(error)}`);
    }
  }
  if (full && problems.length === 0) {
    const rows = (await q`SELECT h.user_id AS "userId" FROM history h
      LEFT JOIN user_seq u ON u.user_id = h.user_id
      WHERE u.last_seq IS NULL OR h.seq > u.last_seq
      GROUP BY h.user_id LIMIT ${MAX_CHECK_PROBLEMS}`) as Array<{ userId: string }>;
    if (rows.length > 0) {
      problems.push(`${rows.length} user(s) have history ahead of their seq counter`);
    }
  }
  return { ok: problems.length === 0, problems: problems.slice(0, MAX_CHECK_PROBLEMS) };
}

/** Writes a probe row in a transaction and rolls it back. Nothing is committed. */
export async function probePgWrite(sql: SQL): Promise<StorageHealth> {
  const rollback = new Error('probe rollback');
  try {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO meta (key, value) VALUES ('write_probe', 'x')
        ON CONFLICT (key) DO UPDATE SET value = 'x'`;
      throw rollback;
    });
    return { ok: true };
  } catch (error) {
    if (error === rollback) return { ok: true };
    return { ok: false, reason: describeError(error) };
  }
}
