/**
 * A steady flood over real sockets (docs/protocol.md §8): a socket that keeps sending above its
 * rate is closed with 4008 within the ten-second refusal window, even though each refill admits a
 * frame and breaks the "refusals in a row" count; a client that bursts within its budget, or a
 * little over it now and then, keeps its socket. Time is a fake clock moved between frames, so the
 * rate the server sees is exact.
 */
import { describe, expect, test } from 'bun:test';
import { FakeClock } from '../support/clock.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect, type WsClient } from '../support/ws.ts';

type Reply = { type: string; code?: string };

const count = (h: Harness, table: string) =>
  (h.db.handle.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

const message = (i: number) => ({
  type: 'message',
  id: crypto.randomUUID(),
  thread_id: 't1',
  role: 'user',
  content: `m${i}`,
});

async function alive(client: WsClient) {
  expect(await client.request({ type: 'ping', id: 'alive' })).toEqual({
    type: 'pong',
    id: 'alive',
  });
}

/** Sends `n` frames at once and reads their `n` replies. */
async function burst(client: WsClient, n: number, from: number): Promise<Reply[]> {
  for (let i = 0; i < n; i += 1) client.send(message(from + i));
  const replies: Reply[] = [];
  for (let i = 0; i < n; i += 1) replies.push(await client.next<Reply>());
  return replies;
}

describe('a steady flood', () => {
  test('at ten times the rate is closed 4008 within the window; rows = acks; others keep working', async () => {
    const clock = new FakeClock();
    await using h = await startRealtime({ clock });
    const { messages_per_s: rate } = h.config.limits;
    const { client: bystander } = await connect(await h.urlFor('bystander'));
    const { client } = await connect(await h.urlFor('flooder'));
    const stepMs = 1000 / (rate * 10);
    let elapsedMs = 0;
    let acks = 0;
    let refusals = 0;
    // Up to 12 s of flood: the old rule (refusals in a row) never closed it at all.
    for (let i = 0; i < rate * 10 * 12; i += 1) {
      client.send(message(i));
      const reply = await client.next<Reply>().catch(() => undefined);
      if (reply === undefined) break;
      if (reply.type === 'ack') acks += 1;
      else if (reply.code === 'rate_limited') refusals += 1;
      else throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      clock.advance(stepMs);
      elapsedMs += stepMs;
    }
    const closed = await Promise.race([client.closed, Promise.resolve(undefined)]);
    expect(closed).toEqual({ code: 4008, reason: 'rate limit' });
    expect(elapsedMs).toBeLessThanOrEqual(10_000);
    expect(refusals).toBe(h.config.limits.burst - 1);
    expect(count(h, 'messages')).toBe(acks);
    await alive(bystander);
    const { client: again } = await connect(await h.urlFor('flooder'));
    await alive(again);
    await again.close();
    await bystander.close();
  });

  test('a client bursting within its budget, or a little over it now and then, stays connected', async () => {
    const clock = new FakeClock();
    await using h = await startRealtime({ clock });
    const { burst: size, messages_per_s: rate } = h.config.limits;
    const { client } = await connect(await h.urlFor('bursty'));
    const refillMs = Math.ceil((size / rate) * 1000);
    for (let round = 0; round < 3; round += 1) {
      const replies = await burst(client, size, round * size);
      expect(replies.every((r) => r.type === 'ack')).toBe(true);
      clock.advance(refillMs);
    }
    // Five over the budget, twice within ten seconds: answered rate_limited, never closed.
    for (let round = 0; round < 2; round += 1) {
      const replies = await burst(client, size + 5, 1000 + round * 100);
      expect(replies.filter((r) => r.type === 'ack')).toHaveLength(size);
      expect(replies.filter((r) => r.code === 'rate_limited')).toHaveLength(5);
      clock.advance(refillMs);
    }
    await alive(client);
    expect(count(h, 'messages')).toBe(size * 5);
    await client.close();
  });
});
