/**
 * @module PostgreSQL: the lease on a thread's assistant turns (storage/turns.ts `leaseTurns`), on
 * its `threads` row (`turns_leased_by`, `turns_lease_until`), apart from the outbox's delivery
 * lease on the same row: delivering a thread's messages to memory and running its turns are held
 * independently. Each call is one autocommitted statement; the row lock of the UPDATE re-checks
 * the condition on the newest row version, so two instances racing for a free lease never both
 * get it.
 */
import type { SQL } from 'bun';

/** Takes or renews the lease; true when `holder` has it until `untilWallMs`. */
export async function leaseThreadTurns(
  q: SQL,
  threadId: string,
  holder: string,
  untilWallMs: number,
  nowWallMs: number,
): Promise<boolean> {
  const rows = await q`UPDATE threads SET turns_leased_by = ${holder},
      turns_lease_until = ${untilWallMs}
    WHERE id = ${threadId} AND (turns_leased_by IS NULL OR turns_leased_by = ${holder}
      OR turns_lease_until <= ${nowWallMs})
    RETURNING 1`;
  return (rows as unknown[]).length > 0;
}

/** Releases `holder`'s lease; a lease another holder took over is left alone. */
export async function releaseThreadTurns(q: SQL, threadId: string, holder: string): Promise<void> {
  await q`UPDATE threads SET turns_leased_by = NULL, turns_lease_until = NULL
    WHERE id = ${threadId} AND turns_leased_by = ${holder}`;
}
