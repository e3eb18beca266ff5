/**
 * Two compiled lifeline instances on one PostgreSQL database (issue 9): pushes cross instances,
 * a client resumes on the other instance, seqs stay gapless under concurrent publishes from both,
 * a killed LISTEN connection loses no push, and admin status lists both members.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type Cluster, type ClusterInstance, startCluster } from '../support/cluster.ts';
import { postgresTestsEnabled } from '../support/postgres.ts';
import { waitFor } from '../support/spawn.ts';
import { connect, type WsClient } from '../support/ws.ts';

const enabled = postgresTestsEnabled('cluster fan-out tests');

interface Frame {
  type: string;
  seq?: number;
  [key: string]: unknown;
}

let cluster: Cluster;
let a: ClusterInstance;
let b: ClusterInstance;
const open: WsClient[] = [];

async function socket(
  instance: ClusterInstance,
  user: string,
  query = '',
): Promise<{ client: WsClient; first: Frame }> {
  const token = await cluster.token(user);
  const opened = await connect<Frame>(`${instance.wsUrl}?thread=t-${user}${query}`, {
    headers: { authorization: `Bearer ${token}` },
    protocols: ['lifeline.v1'],
  });
  open.push(opened.client);
  return opened;
}

async function publish(instance: ClusterInstance, user: string, event: string, data: unknown) {
  const answer = await instance.api('POST', `/api/v1/users/${user}/events`, { event, data });
  expect(answer.status).toBe(202);
  return ((await answer.json()) as { seq: number }).seq;
}

/** Pushed frames of `type` received so far (the rehydrate and replies left out). */
function pushed(client: WsClient, type: string): Frame[] {
  return (client.frames as Frame[]).filter((frame) => frame.type === type);
}

describe.if(enabled)('cluster of two instances', () => {
  beforeAll(async () => {
    cluster = await startCluster({ n: 2 });
    [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
  }, 120_000);

  afterAll(async () => {
    for (const client of open) await client.close().catch(() => {});
    await cluster?.stop();
  });

  test('preferences.set on A is pushed to the same user’s socket on B', async () => {
    const onA = await socket(a, 'u-prefs');
    const onB = await socket(b, 'u-prefs');
    const ack = await onA.client.request<Frame>({
      type: 'preferences.set',
      id: 'p1',
      preferences: { theme: 'dark' },
    });
    expect(ack).toMatchObject({ type: 'ack', id: 'p1' });
    const push = await onB.client.nextOfType<Frame>('preferences');
    expect(push).toMatchObject({ seq: ack.seq, preferences: { theme: 'dark' } });
    // The writer's own socket got the ack, not a copy of its own event.
    expect(pushed(onA.client, 'preferences')).toEqual([]);
  });

  test('a message sent on B reaches the user’s socket on A, once', async () => {
    const onA = await socket(a, 'u-msg');
    const onB = await socket(b, 'u-msg');
    const id = crypto.randomUUID();
    const ack = await onB.client.request<Frame>({
      type: 'message',
      id,
      thread_id: 't-u-msg',
      role: 'user',
      content: 'hello from B',
    });
    expect(ack).toMatchObject({ type: 'ack', id });
    const push = await onA.client.nextOfType<Frame>('message');
    expect(push.seq).toBe(ack.seq as number);
    expect(push.message).toMatchObject({ id, content: 'hello from B', thread_id: 't-u-msg' });
    await publish(a, 'u-msg', 'marker', null);
    await onA.client.nextOfType('event');
    expect(pushed(onA.client, 'message')).toHaveLength(1);
  });

  test('disconnect from A, publish, resume on B with since/epoch: the missed events in order', async () => {
    const first = await socket(a, 'u-resume');
    await publish(b, 'u-resume', 'before', 1);
    const seen = await first.client.nextOfType<Frame>('event');
    await first.client.close();
    const missed: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      missed.push(await publish(index % 2 === 0 ? a : b, 'u-resume', 'missed', index));
    }
    const epoch = first.first.epoch as string;
    const resumed = await socket(b, 'u-resume', `&since=${seen.seq}&epoch=${epoch}`);
    expect(resumed.first).toMatchObject({ type: 'rehydrate', recovered: true, epoch });
    const replay: Frame[] = [];
    for (let index = 0; index < 5; index += 1) replay.push(await resumed.client.next<Frame>());
    expect(replay.map((frame) => frame.seq)).toEqual(missed);
    expect(replay.map((frame) => frame.data)).toEqual([0, 1, 2, 3, 4]);
  });

  test('1,000 concurrent publishes to one user through both instances: seqs 1..1000, pushed gapless on both', async () => {
    const onA = await socket(a, 'u-burst');
    const onB = await socket(b, 'u-burst');
    const seqs = await Promise.all(
      Array.from({ length: 1000 }, (_, index) =>
        publish(index % 2 === 0 ? a : b, 'u-burst', 'burst', index),
      ),
    );
    const expected = Array.from({ length: 1000 }, (_, index) => index + 1);
    expect([...seqs].sort((x, y) => x - y)).toEqual(expected);
    for (const client of [onA.client, onB.client]) {
      await waitFor(() => pushed(client, 'event').length >= 1000, 30_000);
      expect(pushed(client, 'event').map((frame) => frame.seq)).toEqual(expected);
    }
  }, 60_000);

  test('pushes made while the LISTEN connections are down reach the sockets after they come back', async () => {
    const onB = await socket(b, 'u-gap');
    const onA = await socket(a, 'u-gap');
    const resubscribedBefore = resubscribes(b);
    expect(await cluster.pg.terminateListeners()).toBeGreaterThanOrEqual(2);
    const seqs: number[] = [];
    for (let index = 0; index < 20; index += 1) seqs.push(await publish(a, 'u-gap', 'gap', index));
    await waitFor(() => pushed(onB.client, 'event').length >= 20, 20_000);
    expect(pushed(onB.client, 'event').map((frame) => frame.seq)).toEqual(seqs);
    expect(pushed(onA.client, 'event').map((frame) => frame.seq)).toEqual(seqs);
    await waitFor(() => resubscribes(b) > resubscribedBefore, 20_000);
  }, 40_000);

  test('admin status lists both members and this instance’s id; readyz carries it', async () => {
    const status = (await (await a.api('GET', '/api/v1/admin/status')).json()) as {
      cluster: { instance_id: string; members: Array<{ instance_id: string; address: string }> };
    };
    expect(status.cluster.instance_id).toBe('i0');
    expect(status.cluster.members.map((member) => member.instance_id).sort()).toEqual(['i0', 'i1']);
    expect(status.cluster.members.find((m) => m.instance_id === 'i1')?.address).toBe(
      `127.0.0.1:${b.port}`,
    );
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { instance_id: string };
    expect(ready.instance_id).toBe('i1');
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toContain('lifeline_instance_info{instance_id="i0"} 1');
    const line = a.logLines().find((entry) => entry.msg === 'listening');
    expect(line?.instance_id).toBe('i0');
  });
});

function resubscribes(instance: ClusterInstance): number {
  return instance.logLines().filter((line) => String(line.msg).startsWith('cluster LISTEN re-'))
    .length;
}
