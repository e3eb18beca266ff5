/**
 * @module SQLite: persisted breaker snapshots and runtime config overrides with their audit trail.
 * Cold paths, so they use drizzle's query builder over the schema.
 */
import { desc, eq } from 'drizzle-orm';
import type { DrizzleDb } from './open.ts';
import { breakerState, runtimeConfigAudit, runtimeOverrides } from './schema.ts';
import type { AuditEntry, RuntimeOverride, StoredBreakerState } from './store.ts';

/** The stored snapshot of one backend's breaker, or null when none was saved. */
export function selectBreakerState(db: DrizzleDb, backend: string): StoredBreakerState | null {
  const row = db.select().from(breakerState).where(eq(breakerState.backend, backend)).get();
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
export function upsertBreakerState(
  db: DrizzleDb,
  backend: string,
  s: StoredBreakerState,
  nowWallMs: number,
): void {
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
  db.insert(breakerState)
    .values({ backend, ...values })
    .onConflictDoUpdate({ target: breakerState.backend, set: values })
    .run();
}

/** Every runtime override, by key. */
export function selectOverrides(db: DrizzleDb): RuntimeOverride[] {
  return db
    .select()
    .from(runtimeOverrides)
    .orderBy(runtimeOverrides.key)
    .all()
    .map((r) => ({
      key: r.key,
      valueJson: r.valueJson,
      actor: r.actor,
      updatedAtWallMs: r.updatedAt,
    }));
}

function currentOverride(db: DrizzleDb, key: string): string | null {
  const row = db
    .select({ valueJson: runtimeOverrides.valueJson })
    .from(runtimeOverrides)
    .where(eq(runtimeOverrides.key, key))
    .get();
  return row?.valueJson ?? null;
}

/** Sets an override and audits old → new. */
export function writeOverride(
  db: DrizzleDb,
  key: string,
  valueJson: string,
  actor: string,
  nowWallMs: number,
): void {
  const oldJson = currentOverride(db, key);
  db.insert(runtimeOverrides)
    .values({ key, valueJson, actor, updatedAt: nowWallMs })
    .onConflictDoUpdate({
      target: runtimeOverrides.key,
      set: { valueJson, actor, updatedAt: nowWallMs },
    })
    .run();
  db.insert(runtimeConfigAudit)
    .values({ key, oldJson, newJson: valueJson, actor, at: nowWallMs })
    .run();
}

/** Removes an override and audits old → null; false (nothing audited) when there was none. */
export function removeOverride(
  db: DrizzleDb,
  key: string,
  actor: string,
  nowWallMs: number,
): boolean {
  const oldJson = currentOverride(db, key);
  if (oldJson === null) return false;
  db.delete(runtimeOverrides).where(eq(runtimeOverrides.key, key)).run();
  db.insert(runtimeConfigAudit).values({ key, oldJson, newJson: null, actor, at: nowWallMs }).run();
  return true;
}

/** The newest audit entries first. */
export function selectAuditTrail(db: DrizzleDb, limit: number): AuditEntry[] {
  return db
    .select()
    .from(runtimeConfigAudit)
    .orderBy(desc(runtimeConfigAudit.id))
    .limit(Math.max(0, limit))
    .all()
    .map((r) => ({
      key: r.key,
      oldJson: r.oldJson,
      newJson: r.newJson,
      actor: r.actor,
      atWallMs: r.at,
    }));
}
