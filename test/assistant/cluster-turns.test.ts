/**
 * The per-thread turn lease as the runner uses it (assistant/cluster-turns.ts), over an in-memory
 * lease table shared by two holders: a held thread is refused to the other holder, renewals keep
 * it, a renewal that finds it taken over stops the thread here, a store failure past the lease's
 * end counts as lost, and release hands it over.
 */
import { describe, expect, test } from 'bun:test';
import { StoreTurnLeases } from '../../src/assistant/cluster-turns.ts';
import { silentLogger } from '../../src/lib/log.ts';
import type { StoredTurn } from '../../src/storage/turns.ts';
import { FakeClock } from '../support/clock.ts';

/** A lease table like the PostgreSQL one (free, mine or lapsed), on `clock`. */
function leaseTable(clock: FakeClock) {
  const rows = new Map<string, { holder: string; until: number }>();
  let failing = false;
  let calls = 0;
  const open: StoredTurn[] = [];
  return {
    rows,
    open,
    /** Resolves once `n` more lease calls (renewals) were made. */
    async renewals(n: number) {
      const target = calls + n;
      while (calls < target) await Bun.sleep(5);
    },
    fail: (on: boolean) => {
      failing = on;
    },
    store: {
      async leaseTurns(threadId: string, holder: string, until: number) {
        calls += 1;
        if (failing) throw new Error('storage unavailable');
        const row = rows.get(threadId);
        if (row !== undefined && row.holder !== holder && row.until > clock.wallMs()) return false;
        rows.set(threadId, { holder, until });
        return true;
      },
      async releaseTurns(threadId: string, holder: string) {
        if (rows.get(threadId)?.holder === holder) rows.delete(threadId);
      },
      async openTurns(_limit: number, threadId?: string) {
        return open.filter((turn) => turn.threadId === threadId);
      },
    },
  };
}

function leasesOf(table: ReturnType<typeof leaseTable>, holder: string, clock: FakeClock) {
  return new StoreTurnLeases({
    store: table.store,
    holder,
    clock,
    logger: silentLogger,
    leaseMs: 1000,
    renewMs: 20,
  });
}

describe('turn leases', () => {
  test('held: refused to the other holder, kept by renewals, handed over on release', async () => {
    const clock = new FakeClock();
    const table = leaseTable(clock);
    const a = leasesOf(table, 'A', clock);
    const b = leasesOf(table, 'B', clock);
    let lost = 0;
    expect(await a.acquire('t1', new Set(), () => lost++)).toBe(true);
    expect(await b.acquire('t1', new Set(), () => {})).toBe(false);
    clock.advance(900);
    await table.renewals(2);
    clock.advance(900);
    expect(await b.acquire('t1', new Set(), () => {})).toBe(false);
    expect(lost).toBe(0);
    await a.release('t1');
    expect(await b.acquire('t1', new Set(), () => {})).toBe(true);
    await b.release('t1');
  });

  test('a renewal that finds the lease taken over stops the thread', async () => {
    const clock = new FakeClock();
    const table = leaseTable(clock);
    const a = leasesOf(table, 'A', clock);
    let lost = 0;
    expect(await a.acquire('t1', new Set(), () => lost++)).toBe(true);
    table.rows.set('t1', { holder: 'B', until: clock.wallMs() + 10_000 });
    while (lost === 0) await Bun.sleep(5);
    expect(lost).toBe(1);
    await a.release('t1');
    expect(table.rows.get('t1')?.holder).toBe('B');
  });

  test('a store failure keeps the lease until it lapses, then counts as lost', async () => {
    const clock = new FakeClock();
    const table = leaseTable(clock);
    const a = leasesOf(table, 'A', clock);
    let lost = 0;
    expect(await a.acquire('t1', new Set(), () => lost++)).toBe(true);
    table.fail(true);
    await table.renewals(2);
    expect(lost).toBe(0);
    clock.advance(1000);
    while (lost === 0) await Bun.sleep(5);
    expect(lost).toBe(1);
    await a.release('t1');
  });

  test('refresh adds the held thread’s open turns to its waiting set', async () => {
    const clock = new FakeClock();
    const table = leaseTable(clock);
    const a = leasesOf(table, 'A', clock);
    const waiting = new Set(['turn2']);
    table.open.push({ turnId: 'turn1', threadId: 't1' } as StoredTurn);
    table.open.push({ turnId: 'other', threadId: 't2' } as StoredTurn);
    await a.refresh(waiting); // not held yet: nothing read
    expect([...waiting]).toEqual(['turn2']);
    expect(await a.acquire('t1', waiting, () => {})).toBe(true);
    await a.refresh(waiting);
    expect([...waiting].sort()).toEqual(['turn1', 'turn2']);
    await a.release('t1');
  });
});
