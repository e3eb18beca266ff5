/**
 * The snapshot's byte budget over real sockets (docs/protocol.md §5.1, §4.5): with 16 threads of
 * 20 × 32 KB messages the `rehydrate` frame (and the HTTP state) stays within
 * `rehydration.max_frame_bytes`, also with `recent_messages` raised to 500 at run time; a client
 * pages the rest with `thread.join` `before` and ends with every message exactly once, in order;
 * a bad `before` is refused, nothing is stored, and the server keeps serving.
 */
import { describe, expect, test } from 'bun:test';
import { apiRoutes } from '../../src/http/api.ts';
import { utf8Bytes } from '../../src/lib/text.ts';
import type { MessageView, ThreadStateFrame } from '../../src/realtime/protocol.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect, type WsClient } from '../support/ws.ts';

const KEY = 'api-key-for-tests-0123456789';
const THREADS = Array.from({ length: 16 }, (_, i) => `t${i}`);
const PER_THREAD = 20;

const count = (h: Harness, table: string) =>
  (h.db.handle.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

function start() {
  return startRealtime({
    configure: (config) => {
      config.auth.api_key = KEY;
      // Paging 16 threads takes more frames than the default burst; a real client spreads them.
      config.limits.burst = 1000;
    },
    plugins: (parts) => [
      apiRoutes({
        apiKey: () => parts.config.auth.api_key,
        store: parts.store,
        memory: parts.memory,
        realtime: parts.realtime,
      }),
    ],
  });
}

/** 16 threads × 20 messages of 32 KB; returns each thread's message ids in commit order. */
async function fill(h: Harness): Promise<Record<string, string[]>> {
  const ids: Record<string, string[]> = {};
  for (let n = 0; n < PER_THREAD; n += 1) {
    for (const threadId of THREADS) {
      const id = crypto.randomUUID();
      const content = `${threadId}-${n}-`.padEnd(32_768, 'x');
      await h.store.appendMessage({ userId: 'u1', threadId, id, role: 'user', content });
      ids[threadId] = [...(ids[threadId] ?? []), id];
    }
  }
  return ids;
}

type Threads = Record<string, { messages: MessageView[]; truncated?: true; before?: number }>;

/** Pages every thread down to its start; returns the ids held per thread, in order. */
async function pageAll(client: WsClient, threads: Threads): Promise<Record<string, string[]>> {
  const held: Record<string, string[]> = {};
  for (const [threadId, view] of Object.entries(threads)) {
    let messages = view.messages;
    for (let before = view.before; before !== undefined; ) {
      const page = await client.request<ThreadStateFrame>({
        type: 'thread.join',
        thread_id: threadId,
        before,
      });
      expect([page.type, (page as { message?: string }).message]).toEqual([
        'thread.state',
        undefined,
      ]);
      expect(page.messages.length).toBeGreaterThan(0);
      expect(page.messages.every((m) => m.seq < before!)).toBe(true);
      messages = [...page.messages, ...messages];
      before = page.before;
    }
    held[threadId] = messages.map((m) => m.id);
  }
  return held;
}

describe('the snapshot byte budget', () => {
  test('the rehydrate frame stays within the budget and a client pages every message once, in order', async () => {
    await using h = await start();
    const stored = await fill(h);
    const budget = h.config.rehydration.max_frame_bytes;
    const url = `${await h.urlFor('u1')}&${THREADS.map((t) => `thread=${t}`).join('&')}`;
    const { client, first } = await connect<{ threads: Threads }>(url);
    if (process.env.SHOW_SIZES)
      process.stderr.write(`rehydrate ${utf8Bytes(client.raw[0] as string)} bytes\n`);
    expect(utf8Bytes(client.raw[0] as string)).toBeLessThanOrEqual(budget);
    expect(Object.keys(first.threads).sort()).toEqual([...THREADS].sort());
    const cut = Object.values(first.threads).filter((t) => t.truncated === true);
    expect(cut.length).toBeGreaterThan(0);
    for (const view of cut) expect(view.before).toBeNumber();
    const held = await pageAll(client, first.threads);
    expect(held).toEqual(stored);
    expect(count(h, 'messages')).toBe(THREADS.length * PER_THREAD);

    // Raised at run time to its maximum, the count no longer bounds anything: the budget does.
    h.realtime.updateLimits({
      ...h.config,
      rehydration: { ...h.config.rehydration, recent_messages: 500 },
    });
    const again = await connect<{ threads: Threads }>(url);
    expect(utf8Bytes(again.client.raw[0] as string)).toBeLessThanOrEqual(budget);
    const state = await fetch(
      `${h.httpUrl}/api/v1/users/u1/state?${url.split('&').slice(1).join('&')}`,
      {
        headers: { authorization: `Bearer ${KEY}` },
      },
    );
    expect(state.status).toBe(200);
    expect(utf8Bytes(await state.text())).toBeLessThanOrEqual(budget);
    await again.client.close();
    await client.close();
  });

  test('thread.join refuses a bad before with the rule; nothing is stored; the socket keeps serving', async () => {
    await using h = await start();
    const { client } = await connect(await h.urlFor('u1'));
    const before = count(h, 'history');
    for (const bad of [0, -1, 1.5, 'x', null, 2 ** 60]) {
      const reply = await client.request({
        type: 'thread.join',
        id: 'j',
        thread_id: 't1',
        before: bad,
      });
      expect([bad, reply]).toEqual([
        bad,
        {
          type: 'error',
          code: 'bad_request',
          message: '/before: expected a seq ≥ 1 (a `before` from the server)',
          id: 'j',
        },
      ]);
    }
    expect(count(h, 'history')).toBe(before);
    expect(await client.request({ type: 'ping', id: 'p' })).toEqual({ type: 'pong', id: 'p' });
    await client.close();
  });
});
