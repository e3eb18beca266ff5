/**
 * @module PostgreSQL: persisted breaker snapshots and runtime config overrides with their audit
 * trail. Cold paths, so they use drizzle's query builder over the pg-core schema. Every override
 * change takes one transaction-scoped advisory lock for all overrides before it reads them, so
 * writers on every instance (and `lifeline config set`) take turns: each decides against the rows
 * the previous one committed, and the audit chain is old → new in commit order.
 */
import { desc, eq, sql } from 'drizzle-orm';
import { breakerRowOf, toAuditEntry, toRuntimeOverride, toStoredBreakerState } from '../rows.ts';
import type { AuditEntry, OverridePlan, RuntimeOverride, StoredBreakerState } from '../store.ts';
import type { PgDb } from './open.ts';
import { breakerState, runtimeConfigAudit, runtimeOverrides } from './schema.ts';

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

/** The stored snapshot of one backend's breaker, or null when none was saved. */
export async function selectBreakerState(
  db: PgDb,
  backend: string,
): Promise<StoredBreakerState | null> {
  const [row] = await db.select().from(breakerState).where(eq(breakerState.backend, backend));
  if (row === undefined) return null;
  return toStoredBreakerState(row);
}

/** Replaces one backend's breaker snapshot. */
export async function upsertBreakerState(
  db: PgDb,
  backend: string,
  s: StoredBreakerState,
  nowWallMs: number,
): Promise<void> {
  const values = breakerRowOf(s, nowWallMs);
  // Every write bumps the version, so instances sharing the row (cluster mode) adopt it.
  await db
    .insert(breakerState)
    .values({ backend, ...values, version: 1 })
    .onConflictDoUpdate({
      target: breakerState.backend,
      set: { ...values, version: sql`${breakerState.version} + 1` },
    });
}

/** Every runtime override, by key. */
export async function selectOverrides(db: PgDb | Tx): Promise<RuntimeOverride[]> {
  const rows = await db.select().from(runtimeOverrides).orderBy(runtimeOverrides.key);
  return rows.map(toRuntimeOverride);
}

/**
 * Runs `plan` over the overrides as committed, under the overrides' advisory lock, and writes
 * what it chose with an audit row per change, in one transaction. A write equal to the stored
 * value, or a removal of a missing row, is skipped unaudited.
 */
export async function applyOverridePlan<T>(
  db: PgDb,
  plan: OverridePlan<T>,
  actor: string,
  nowWallMs: number,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('lifeline:runtime_overrides'))`);
    const stored = await selectOverrides(tx);
    const { writes, result } = plan(stored);
    const current = new Map<string, string | null>(stored.map((row) => [row.key, row.valueJson]));
    for (const { key, valueJson } of writes) {
      const oldJson = current.get(key) ?? null;
      if (oldJson === valueJson) continue;
      if (valueJson === null) {
        await tx.delete(runtimeOverrides).where(eq(runtimeOverrides.key, key));
      } else {
        await tx
          .insert(runtimeOverrides)
          .values({ key, valueJson, actor, updatedAt: nowWallMs })
          .onConflictDoUpdate({
            target: runtimeOverrides.key,
            set: { valueJson, actor, updatedAt: nowWallMs },
          });
      }
      await tx
        .insert(runtimeConfigAudit)
        .values({ key, oldJson, newJson: valueJson, actor, at: nowWallMs });
      current.set(key, valueJson);
    }
    return result;
  });
}

/** The newest audit entries first. */
export async function selectAuditTrail(db: PgDb, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(runtimeConfigAudit)
    .orderBy(desc(runtimeConfigAudit.id))
    .limit(Math.max(0, limit));
  return rows.map(toAuditEntry);
}
