/**
 * No loss across instances (issue 9): two compiled lifeline instances on one PostgreSQL database,
 * a fake Zep that is down while messages are acknowledged through instance A, then recovers
 * (slowly) while both drain the shared outbox. A is killed with SIGKILL in the middle of the
 * drain; B takes over A's threads once their leases lapse and delivers everything, in order per
 * thread, checked with the docs/faults.md#no-loss-checker checker.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { type FakeZep, startFakeZep } from '../support/fake-zep.ts';
import { checkNoLoss, type HistoryRecord } from '../support/no-loss-checker.ts';
import { postgresTestsEnabled } from '../support/postgres.ts';
import { waitFor } from '../support/spawn.ts';

const THREADS = 12;
const PER_THREAD = 10;
const BATCH_SIZE = 4;
const MAX_IN_FLIGHT = 4;

let zep: FakeZep;
let cluster: Cluster;

describe.skipIf(!postgresTestsEnabled('the cluster outbox tests'))('cluster outbox', () => {
  beforeAll(async () => {
    zep = await startFakeZep({ mode: 'v1' });
    await zep.setFault({ kind: 'status', status: 503 });
    cluster = await startCluster({
      n: 2,
      env: {
        LIFELINE_MEMORY_BACKEND: 'zep',
        LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
        LIFELINE_MEMORY_ZEP_API_VERSION: 'v1',
        LIFELINE_MEMORY_ZEP_API_KEY: 'k',
        LIFELINE_MEMORY_TIMEOUT_MS: '500',
        LIFELINE_BREAKER_FAILURE_THRESHOLD: '3',
        LIFELINE_BREAKER_COOLDOWN_S: '1',
        LIFELINE_BREAKER_COOLDOWN_MAX_S: '1',
        LIFELINE_OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
        LIFELINE_OUTBOX_FLUSH_INTERVAL_MS: '50',
        LIFELINE_OUTBOX_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await zep?.stop();
  });

  test('kill -9 of A mid-drain: B delivers every message acknowledged through A, in order per thread', async () => {
    const [a, b] = cluster.instances as [
      (typeof cluster.instances)[0],
      (typeof cluster.instances)[0],
    ];
    // Acknowledged through A while the memory service is down: one user per thread, in order.
    const history: HistoryRecord[] = [];
    await Promise.all(
      Array.from({ length: THREADS }, async (_, t) => {
        for (let k = 0; k < PER_THREAD; k++) {
          const id = crypto.randomUUID();
          const answer = await a.api('POST', `/api/v1/threads/th${t}/messages`, {
            user_id: `user${t}`,
            role: 'user',
            content: `m${t}-${k}`,
            id,
          });
          expect(answer.status).toBe(201);
          const { seq } = (await answer.json()) as { seq: number };
          history.push({ id, thread: `th${t}`, outcome: { ok: seq } });
        }
      }),
    );
    // The service recovers, slowly; A dies after its first few deliveries are under way.
    let adds = 0;
    let killedAt = -1;
    zep.onRequest((request) => {
      if (request.method !== 'POST' || !request.path.includes('/memory')) return;
      adds++;
      if (adds === 6) {
        killedAt = zep.uniqueDelivered().length;
        a.kill('SIGKILL');
      }
    });
    await zep.setFault({ kind: 'delay', ms: 40 });
    await a.exited;
    const wanted = new Set(history.map((h) => h.id));
    await waitFor(
      () => zep.uniqueDelivered().filter((d) => wanted.has(d.uuid)).length === wanted.size,
      60_000,
    );
    zep.onRequest(null);

    const sql = new SQL(cluster.dbUrl);
    try {
      const rows = (await sql`SELECT id, state FROM messages`) as Array<{
        id: string;
        state: string;
      }>;
      const report = checkNoLoss({
        history,
        sqliteIds: rows.map((r) => r.id),
        deliveries: zep.deliveries(),
      });
      process.stderr.write(
        `cluster no-loss: acked=${history.length} killed after ${killedAt} deliveries; delivered=${zep.uniqueDelivered().length} duplicates=${report.dupes}\n`,
      );
      expect(report.lostLocal).toEqual([]);
      expect(report.lost).toEqual([]);
      expect(report.phantom).toEqual([]);
      expect(report.orderViolations).toEqual([]);
      // Only the batches A had in flight when it died may arrive twice: one per thread at most.
      expect(report.dupes).toBeLessThanOrEqual(BATCH_SIZE * MAX_IN_FLIGHT);
      const perThread = new Map<string, number>();
      for (const id of report.dupeIds) {
        const thread = history.find((h) => h.id === id)!.thread;
        perThread.set(thread, (perThread.get(thread) ?? 0) + 1);
      }
      for (const n of perThread.values()) expect(n).toBeLessThanOrEqual(BATCH_SIZE);
      // B marked everything delivered (A's late settles, if any, never happened).
      await waitFor(async () => {
        const [row] = (await sql`SELECT COUNT(*)::int AS n FROM messages
          WHERE state <> 'delivered'`) as Array<{ n: number }>;
        return row!.n === 0;
      }, 10_000);
    } finally {
      await sql.close();
    }
    expect((await b.api('GET', '/readyz')).status).toBe(200);
  }, 90_000);
});
