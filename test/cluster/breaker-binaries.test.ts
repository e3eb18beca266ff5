/**
 * One breaker for the cluster, end to end (issue 9): three compiled instances on one PostgreSQL
 * database, each with pending messages for a dead fake Zep. Over five cooldowns the fake receives
 * at most failure_threshold requests per instance before the first open, plus one probe per
 * cooldown across the cluster (each failed probe is one re-open in the shared row).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { type FakeZep, startFakeZep } from '../support/fake-zep.ts';
import { postgresTestsEnabled } from '../support/postgres.ts';
import { waitFor } from '../support/spawn.ts';

const THRESHOLD = 3;
const COOLDOWNS = 5;

let zep: FakeZep;
let cluster: Cluster;

describe.skipIf(!postgresTestsEnabled('the cluster breaker (binaries) test'))(
  'cluster breaker, binaries',
  () => {
    beforeAll(async () => {
      zep = await startFakeZep({ mode: 'v1' });
      await zep.setFault({ kind: 'status', status: 503 });
      cluster = await startCluster({
        n: 3,
        env: {
          LIFELINE_MEMORY_BACKEND: 'zep',
          LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
          LIFELINE_MEMORY_ZEP_API_VERSION: 'v1',
          LIFELINE_MEMORY_ZEP_API_KEY: 'k',
          LIFELINE_MEMORY_TIMEOUT_MS: '300',
          LIFELINE_BREAKER_FAILURE_THRESHOLD: String(THRESHOLD),
          LIFELINE_BREAKER_COOLDOWN_S: '1',
          LIFELINE_BREAKER_COOLDOWN_MAX_S: '1',
          LIFELINE_OUTBOX_FLUSH_INTERVAL_MS: '20',
        },
      });
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
      await zep?.stop();
    });

    test('a dead memory service gets threshold per instance, then one probe per cooldown cluster-wide', async () => {
      // The startup checks (preflight: health and a user lookup per instance) are not breaker calls.
      zep.clearRequests();
      // Work for every instance: each has messages of its own users pending.
      for (const [i, instance] of cluster.instances.entries()) {
        for (let k = 0; k < 3; k++) {
          const answer = await instance.api('POST', `/api/v1/threads/b${i}-${k}/messages`, {
            user_id: `bu${i}-${k}`,
            role: 'user',
            content: `hello ${k}`,
          });
          expect(answer.status).toBe(201);
        }
      }
      const sql = new SQL(cluster.dbUrl);
      try {
        const shared = async () => {
          const [row] = (await sql`SELECT state, reopen_count AS "reopenCount"
          FROM breaker_state WHERE backend = 'zep'`) as Array<{
            state: string;
            reopenCount: number;
          }>;
          return row;
        };
        await waitFor(async () => ((await shared())?.reopenCount ?? 0) >= COOLDOWNS, 30_000);
        const requests = zep.requests().length;
        const reopens = (await shared())!.reopenCount;
        process.stderr.write(
          `cluster breaker: ${requests} requests to the dead service over ${reopens} failed probes (3 instances, threshold ${THRESHOLD})\n`,
        );
        // Each failed probe is one re-open; one more probe may be in flight as we read.
        expect(requests).toBeLessThanOrEqual(cluster.instances.length * THRESHOLD + reopens + 1);
        expect(requests).toBeGreaterThanOrEqual(THRESHOLD + COOLDOWNS);
        // Every instance reports the shared state.
        for (const instance of cluster.instances) {
          const ready = (await (await instance.api('GET', '/readyz')).json()) as {
            memory?: string | { status?: string };
          };
          const memory = typeof ready.memory === 'string' ? ready.memory : ready.memory?.status;
          expect(memory).toBe('write_only');
        }
      } finally {
        await sql.close();
      }
    }, 60_000);
  },
);
