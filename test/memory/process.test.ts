/**
 * Process faults with real child processes on one database file: the crash-restart loop while the
 * circuit is open (docs/faults.md#m13) and SIGKILL in the middle of a flush at batch k (P1),
 * checked with the §5 "nothing acknowledged is lost" checker.
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { applyMigrations } from '../../src/storage/sqlite/migrations.ts';
import { openDatabase } from '../../src/storage/sqlite/open.ts';
import { createSqliteStore } from '../../src/storage/sqlite/store.ts';
import { startFakeZep } from '../support/fake-zep.ts';
import { checkNoLoss, type HistoryRecord } from '../support/no-loss-checker.ts';
import { childEnv } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import type { ChildConfig } from './fixtures/memory-child.ts';

const CHILD = join(import.meta.dir, 'fixtures', 'memory-child.ts');

const BASE: Omit<ChildConfig, 'dbPath' | 'zepUrl'> = {
  accept: 0,
  threads: 1,
  until: 'hold',
  batchSize: 50,
  maxInFlight: 4,
  cooldownMs: 300,
  cooldownMaxMs: 1000,
  flushIntervalMs: 20,
  timeoutMs: 2000,
};

/** A running child with a reader of its JSON stdout lines. */
function spawnChild(config: ChildConfig) {
  const proc = Bun.spawn([process.execPath, CHILD, JSON.stringify(config)], {
    env: childEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stderr = new Response(proc.stderr).text();
  const reader = proc.stdout.getReader();
  let buffered = '';
  const decoder = new TextDecoder();
  /** Resolves with the first line holding `key`. */
  async function next<T>(key: string): Promise<T> {
    for (;;) {
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        if (key in line) return line[key] as T;
        continue;
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`child ended before "${key}": ${await stderr}`);
      buffered += decoder.decode(value);
    }
  }
  return { proc, next, stderr };
}

async function readStore(dbPath: string) {
  const store = createSqliteStore(
    (() => {
      const handle = openDatabase(dbPath);
      applyMigrations(handle);
      return handle;
    })(),
  );
  return store;
}

describe('process faults', () => {
  test('M13 crash-restart loop while open: 0 requests before next_probe_at, then exactly one probe', async () => {
    using dir = tempDir('lifeline-restart');
    await using zep = await startFakeZep({ mode: 'v1' });
    await zep.setFault({ kind: 'status', status: 503 });
    const arrivals: number[] = [];
    zep.onRequest(() => {
      arrivals.push(Date.now());
    });
    const config = {
      ...BASE,
      dbPath: dir.join('l.db'),
      zepUrl: zep.url,
      cooldownMs: 4000,
      cooldownMaxMs: 8000,
    };
    const opener = spawnChild({ ...config, accept: 20, threads: 2, until: 'open' });
    const opened = await opener.next<{ nextProbeAtWallMs: number }>('open');
    await opener.proc.exited;
    const before = arrivals.length;
    expect(before).toBeLessThanOrEqual(5);
    for (let restart = 0; restart < 3; restart++) {
      const child = spawnChild({ ...config, until: 'ms', runMs: 200 });
      expect((await child.next<{ state: string }>('started')).state).toBe('open');
      await child.proc.exited;
    }
    expect(Date.now()).toBeLessThan(opened.nextProbeAtWallMs);
    expect(arrivals.length).toBe(before);
    const waitMs = opened.nextProbeAtWallMs - Date.now() + 1500;
    const last = spawnChild({ ...config, until: 'ms', runMs: waitMs });
    const after = await last.next<{ state: string; reopenCount: number }>('circuit');
    await last.proc.exited;
    const probes = arrivals.slice(before);
    expect(probes.length).toBe(1);
    expect(probes[0]).toBeGreaterThanOrEqual(opened.nextProbeAtWallMs - 5);
    expect(after).toMatchObject({ state: 'open', reopenCount: 1 });
  }, 30_000);

  test.each([
    [1, 4],
    [5, 4],
    [20, 4],
    [5, 1],
  ])(
    'P1 SIGKILL mid-flush at batch %d (max_in_flight %d): nothing acknowledged is lost',
    async (k, maxInFlight) => {
      using dir = tempDir('lifeline-noloss');
      await using zep = await startFakeZep({ mode: 'v1' });
      await zep.setFault({ kind: 'status', status: 503 });
      const config = { ...BASE, dbPath: dir.join('l.db'), zepUrl: zep.url, maxInFlight };
      const first = spawnChild({ ...config, accept: 2000, threads: 20, until: 'hold' });
      const acked = await first.next<Array<[string, string, number]>>('acked');
      expect(acked.length).toBe(2000);
      let batches = 0;
      zep.onRequest((request) => {
        if (request.method !== 'POST' || !request.path.endsWith('/memory')) return;
        batches++;
        if (batches === k) first.proc.kill('SIGKILL');
      });
      await zep.heal();
      await first.proc.exited;
      zep.onRequest(null);
      const second = spawnChild({ ...config, until: 'drained' });
      await second.next('drained');
      await second.proc.exited;
      const store = await readStore(config.dbPath);
      const stats = await store.outboxStats();
      const sqliteIds = (
        await Promise.all(
          Array.from({ length: 20 }, (_, t) => store.recentMessages(`thread-${t}`, 1000)),
        )
      )
        .flat()
        .map((m) => m.id);
      await store.close();
      const history: HistoryRecord[] = acked.map(([id, thread, seq]) => ({
        id,
        thread,
        outcome: { ok: seq },
      }));
      const report = checkNoLoss({ history, sqliteIds, deliveries: zep.deliveries() });
      // Printed for the report: accepted, delivered (unique), duplicates.
      process.stderr.write(
        `no-loss k=${k} max_in_flight=${maxInFlight}: accepted=${acked.length} delivered=${zep.uniqueDelivered().length} duplicates=${report.dupes}\n`,
      );
      expect(stats).toEqual({ pending: 0, dead: 0, delivered: 2000 });
      expect(report.lostLocal).toEqual([]);
      expect(report.lost).toEqual([]);
      expect(report.phantom).toEqual([]);
      expect(report.orderViolations).toEqual([]);
      // One kill: at most the batches in flight at that moment arrive twice.
      // One kill: the batches in flight at that moment may arrive twice (one batch when serial).
      expect(report.dupes).toBeLessThanOrEqual(BASE.batchSize * maxInFlight);
    },
    60_000,
  );
});
