/**
 * PostgreSQL goes away under a two-instance cluster (issue 9): /readyz answers 503 while it is
 * down, a message sent meanwhile is refused `unavailable` (never acked without a commit), and
 * when the server is back both instances serve again by themselves — writes, cross-instance
 * pushes (the LISTEN re-established) and readiness.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Cluster, type ClusterInstance, startCluster } from '../support/cluster.ts';
import { postgresTestsEnabled } from '../support/postgres.ts';
import { waitFor } from '../support/spawn.ts';
import { connect, type WsClient } from '../support/ws.ts';

const enabled = postgresTestsEnabled('cluster outage tests');

interface Frame {
  type: string;
  seq?: number;
  [key: string]: unknown;
}

let cluster: Cluster;
const open: WsClient[] = [];

async function socket(instance: ClusterInstance, user: string): Promise<WsClient> {
  const token = await cluster.token(user);
  const { client } = await connect<Frame>(`${instance.wsUrl}?thread=t-${user}`, {
    headers: { authorization: `Bearer ${token}` },
    protocols: ['lifeline.v1'],
  });
  open.push(client);
  return client;
}

async function readyStatus(instance: ClusterInstance): Promise<number> {
  try {
    return (await fetch(`${instance.url}/readyz`)).status;
  } catch {
    return 0;
  }
}

function message(content: string) {
  return { type: 'message', id: crypto.randomUUID(), thread_id: 't-u-out', role: 'user', content };
}

describe.if(enabled)('PostgreSQL restarted under the cluster', () => {
  beforeAll(async () => {
    cluster = await startCluster({ n: 2 });
  }, 120_000);

  afterAll(async () => {
    for (const client of open) await client.close().catch(() => {});
    await cluster?.stop();
  });

  test('readyz 503 while down, nothing acked without a commit, service resumes by itself', async () => {
    const [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
    const onA = await socket(a, 'u-out');
    const onB = await socket(b, 'u-out');
    const before = await onA.request<Frame>(message('before the outage'));
    expect(before.type).toBe('ack');
    await onB.nextOfType('message');

    await cluster.pg.stopServer();
    const refused = await onA.request<Frame>(message('during the outage'));
    expect(refused).toMatchObject({ type: 'error', code: 'unavailable' });
    await waitFor(async () => (await readyStatus(a)) === 503 && (await readyStatus(b)) === 503);

    await cluster.pg.startServer();
    await waitFor(
      async () => (await readyStatus(a)) === 200 && (await readyStatus(b)) === 200,
      30_000,
    );
    // A write may still meet a pooled connection the restart closed: the client retries the id.
    let after: Frame = { type: 'none' };
    const retry = message('after the outage');
    await waitFor(async () => {
      after = await onA.request<Frame>(retry);
      return after.type === 'ack';
    }, 20_000);
    const pushed = await onB.nextOfType<Frame>('message');
    expect(pushed.seq).toBe(after.seq as number);
    expect(pushed.message).toMatchObject({ content: 'after the outage' });
    // Exactly two messages were committed: the refused one left nothing behind.
    expect(after.seq).toBe((before.seq as number) + 1);
  }, 90_000);
});
