/**
 * The client SDK pages a thread's older messages (docs/protocol.md §4.5): against the real server
 * with a small snapshot budget, `loadOlder` walks the `before` cursor down to the thread's start
 * and the state ends with every stored message exactly once, by `seq`, also when a new message
 * arrives while paging.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { connect, type LifelineClient } from '../../client/index.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { waitFor } from '../support/spawn.ts';

const opened: Array<LifelineClient | Harness> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) {
    if ('close' in item) item.close();
    else await item[Symbol.asyncDispose]();
  }
});

async function store(h: Harness, threadId: string, content: string): Promise<string> {
  const id = crypto.randomUUID();
  await h.store.appendMessage({ userId: 'u1', threadId, id, role: 'user', content });
  return id;
}

describe('client paging', () => {
  test('loadOlder pages down to the start; every message once, in order', async () => {
    const h = await startRealtime({
      configure: (config) => {
        config.rehydration.max_frame_bytes = 16_384;
        config.limits.burst = 200;
      },
    });
    opened.push(h);
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) ids.push(await store(h, 't1', `${i}:`.padEnd(3_000, 'x')));
    const client = connect({ url: h.wsUrl, token: () => h.token('u1'), thread: 't1' });
    opened.push(client);
    await waitFor(() => client.getState().ready);
    const first = client.getState().threads.t1;
    expect(first?.messages.length).toBeGreaterThan(0);
    expect(first?.messages.length).toBeLessThan(20);
    expect(first?.before).toBeNumber();
    let pages = 0;
    while (await client.loadOlder('t1')) {
      pages += 1;
      if (pages === 2) ids.push((await client.send({ thread_id: 't1', content: 'new' })).id);
      expect(pages).toBeLessThan(60);
    }
    const held = client.getState().threads.t1;
    expect(held?.before).toBeUndefined();
    expect(held?.messages.map((m) => m.id)).toEqual(ids);
    const seqs = held?.messages.map((m) => m.seq) ?? [];
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(await client.loadOlder('t1')).toBe(false);
  });
});
