/**
 * @module PostgreSQL: persisted breaker snapshots and runtime config overrides with their audit
 * trail. Cold paths, so they use drizzle's query builder over the pg-core schema. An override
 * change takes a transaction-scoped advisory lock on its key, so two instances changing the same
 * key audit old → new in the order they committed.
 */
import { desc, eq, sql } from 'drizzle-orm';
import type { PgDb } from './pg-open.ts';
import { breakerState, runtimeConfigAudit, runtimeOverrides } from './pg-schema.ts';
import type { AuditEntry, RuntimeOverride, StoredBreakerState } from './store.ts';

type Tx = Parameters<Parameters<PgDb['transaction']>[0]>[0];

/** The stored snapshot of one backend's breaker, or null when none was saved. */
export async function selectBreakerState(
  db: PgDb,
  backend: string,
): Promise<StoredBreakerState | null> {
  const [row] = await db.select().from(breakerState).where(eq(breakerState.backend, backend));
  if (row === undefined) return null;
  return {
    state: row.state,
    consecutiveFailures: row.consecutiveFailures,
    openedAtWallMs: row.openedAt,
    nextProbeAtWallMs: row.nextProbeAt,
    reopenCount: row.reopenCount,
    lastError: row.lastError,
    reason: row.reason,
  };
}

/** Replaces one backend's breaker snapshot. */
export async function upsertBreakerState(
  db: PgDb,
  backend: string,
  s: StoredBreakerState,
  nowWallMs: number,
): Promise<void> {
  const values = {
    state: s.state,
    consecutiveFailures: s.consecutiveFailures,
    openedAt: s.openedAtWallMs,
    nextProbeAt: s.nextProbeAtWallMs,
    reopenCount: s.reopenCount,
    lastError: s.lastError,
    reason: s.reason,
    updatedAt: nowWallMs,
  };
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
export async function selectOverrides(db: PgDb): Promise<RuntimeOverride[]> {
  const rows = await db.select().from(runtimeOverrides).orderBy(runtimeOverrides.key);
  return rows.map((r) => ({
    key: r.key,
    valueJson: r.valueJson,
    actor: r.actor,
    updatedAtWallMs: r.updatedAt,
  }));
}

async function lockedOverride(tx: Tx, key: string): Promise<string | null> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`runtime_override:${key}`}))`);
  const [row] = await tx
    .select({ valueJson: runtimeOverrides.valueJson })
    .from(runtimeOverrides)
    .where(eq(runtimeOverrides.key, key));
  return row?.valueJson ?? null;
}

/** Sets an override and audits old → new, in one transaction. */
export async function writeOverride(
  db: PgDb,
  key: string,
  valueJson: string,
  actor: string,
  nowWallMs: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    const oldJson = await lockedOverride(tx, key);
    await tx
      .insert(runtimeOverrides)
      .values({ key, valueJson, actor, updatedAt: nowWallMs })
      .onConflictDoUpdate({
        target: runtimeOverrides.key,
        set: { valueJson, actor, updatedAt: nowWallMs },
      });
    await tx
      .insert(runtimeConfigAudit)
      .values({ key, oldJson, newJson: valueJson, actor, at: nowWallMs });
  });
}

/** Removes an override and audits old → null; false (nothing audited) when there was none. */
export async function removeOverride(
  db: PgDb,
  key: string,
  actor: string,
  nowWallMs: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const oldJson = await lockedOverride(tx, key);
    if (oldJson === null) return false;
    await tx.delete(runtimeOverrides).where(eq(runtimeOverrides.key, key));
    await tx
      .insert(runtimeConfigAudit)
      .values({ key, oldJson, newJson: null, actor, at: nowWallMs });
    return true;
  });
}

/** The newest audit entries first. */
export async function selectAuditTrail(db: PgDb, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(runtimeConfigAudit)
    .orderBy(desc(runtimeConfigAudit.id))
    .limit(Math.max(0, limit));
  return rows.map((r) => ({
    key: r.key,
    oldJson: r.oldJson,
    newJson: r.newJson,
    actor: r.actor,
    atWallMs: r.at,
  }));
}
