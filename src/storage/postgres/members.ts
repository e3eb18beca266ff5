/**
 * @module The cluster's member list (cluster mode, docs/design.md#operations): each instance
 * upserts its row in `cluster_members` every few seconds; a row not refreshed within the expiry is
 * a dead member and is left out (and eventually deleted). Plain SQL over a pool of the caller's.
 */
import type { SQL } from 'bun';

/** One live instance. */
export interface ClusterMember {
  instanceId: string;
  /** Where it listens, as it reports itself (`host:port`). */
  address: string;
  startedAtWallMs: number;
  lastSeenWallMs: number;
}

/** Records that `member` is alive at `nowWallMs` (insert or refresh). */
export async function beat(sql: SQL, member: ClusterMember): Promise<void> {
  await sql`INSERT INTO cluster_members (instance_id, address, started_at, last_seen)
    VALUES (${member.instanceId}, ${member.address}, ${member.startedAtWallMs}, ${member.lastSeenWallMs})
    ON CONFLICT (instance_id) DO UPDATE SET address = excluded.address,
      started_at = excluded.started_at, last_seen = excluded.last_seen`;
}

/** Members seen at or after `sinceWallMs`, oldest first; deletes rows silent for 10× longer. */
export async function liveMembers(
  sql: SQL,
  sinceWallMs: number,
  nowWallMs: number,
): Promise<ClusterMember[]> {
  const forgetBefore = nowWallMs - (nowWallMs - sinceWallMs) * 10;
  await sql`DELETE FROM cluster_members WHERE last_seen < ${forgetBefore}`;
  const rows = await sql`SELECT instance_id AS "instanceId", address,
      started_at::float8 AS "startedAtWallMs", last_seen::float8 AS "lastSeenWallMs"
    FROM cluster_members WHERE last_seen >= ${sinceWallMs}
    ORDER BY started_at, instance_id`;
  return [...(rows as ClusterMember[])];
}

/** Removes this instance's row (a clean stop); the others stop listing it at once. */
export async function leave(sql: SQL, instanceId: string): Promise<void> {
  await sql`DELETE FROM cluster_members WHERE instance_id = ${instanceId}`;
}
