/**
 * @module SQLite: persisted breaker snapshots and runtime config overrides with their audit trail.
 * Cold paths, so they use drizzle's query builder over the schema.
 */
import { desc, eq } from 'drizzle-orm';
import { breakerRowOf, toAuditEntry, toRuntimeOverride, toStoredBreakerState } from '../rows.ts';
import type { AuditEntry, OverridePlan, RuntimeOverride, StoredBreakerState } from '../store.ts';
import type { DrizzleDb } from './open.ts';
import { breakerState, runtimeConfigAudit, runtimeOverrides } from './schema.ts';

/** The stored snapshot of one backend's breaker, or null when none was saved. */
export function selectBreakerState(db: DrizzleDb, backend: string): StoredBreakerState | null {
  const row = db.select().from(breakerState).where(eq(breakerState.backend, backend)).get();
  if (row === undefined) return null;
  return toStoredBreakerState(row);
}

/** Replaces one backend's breaker snapshot. */
export function upsertBreakerState(
  db: DrizzleDb,
  backend: string,
  s: StoredBreakerState,
  nowWallMs: number,
): void {
  const values = breakerRowOf(s, nowWallMs);
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
    .map(toRuntimeOverride);
}

/**
 * Runs `plan` over the stored overrides and writes what it chose, auditing each change old → new
 * (or old → null for a removal). Called inside the write queue's BEGIN IMMEDIATE, which holds
 * SQLite's write lock, so no other connection (another process included) writes in between.
 * A write equal to the stored value, or a removal of a missing row, is skipped unaudited.
 */
export function applyOverridePlan<T>(
  db: DrizzleDb,
  plan: OverridePlan<T>,
  actor: string,
  nowWallMs: number,
): T {
  const stored = selectOverrides(db);
  const { writes, result } = plan(stored);
  const current = new Map<string, string | null>(stored.map((row) => [row.key, row.valueJson]));
  for (const { key, valueJson } of writes) {
    const oldJson = current.get(key) ?? null;
    if (oldJson === valueJson) continue;
    if (valueJson === null) {
      db.delete(runtimeOverrides).where(eq(runtimeOverrides.key, key)).run();
    } else {
      db.insert(runtimeOverrides)
        .values({ key, valueJson, actor, updatedAt: nowWallMs })
        .onConflictDoUpdate({
          target: runtimeOverrides.key,
          set: { valueJson, actor, updatedAt: nowWallMs },
        })
        .run();
    }
    db.insert(runtimeConfigAudit)
      .values({ key, oldJson, newJson: valueJson, actor, at: nowWallMs })
      .run();
    current.set(key, valueJson);
  }
  return result;
}

/** The newest audit entries first. */
export function selectAuditTrail(db: DrizzleDb, limit: number): AuditEntry[] {
  return db
    .select()
    .from(runtimeConfigAudit)
    .orderBy(desc(runtimeConfigAudit.id))
    .limit(Math.max(0, limit))
    .all()
    .map(toAuditEntry);
}
