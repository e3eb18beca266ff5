/**
 * The client against an in-memory socket the test plays the server on, with fake timers: every
 * close-code rule, the resume parameters, the offline queue, request replies and timeouts, and
 * the token refresh tied to its connection. The same behaviours against the real server are in
 * live.test.ts.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import {
  type ConnectionStatus,
  connect,
  type LifelineClient,
  LifelineRequestError,
  seededRandom,
} from '../../client/index.ts';
import { FakeNetwork, FakeTimers, flush, messageView, rehydrate, uuid } from './fakes.ts';

let client: LifelineClient | undefined;
afterEach(() => client?.close());

function setup(tokens: string[] = ['tok-1'], extra: Record<string, unknown> = {}) {
  const net = new FakeNetwork();
  const timers = new FakeTimers();
  const tokenCalls: string[] = [];
  const statuses: ConnectionStatus[] = [];
  let index = 0;
  const token = async () => {
    const value = tokens[Math.min(index++, tokens.length - 1)] as string;
    tokenCalls.push(value);
    return value;
  };
  client = connect({
    url: 'ws://127.0.0.1:7400/ws',
    token,
    thread: 't1',
    timers,
    socket: net.factory,
    random: seededRandom(1),
    ...extra,
  });
  client.on('status', (status) => statuses.push(status));
  return { net, timers, tokenCalls, statuses, client };
}

/** Advances exactly to the scheduled reconnect attempt. */
async function untilRetry(client: LifelineClient, timers: FakeTimers) {
  const status = client.getStatus();
  if (status.state !== 'reconnecting') throw new Error(`not reconnecting: ${status.state}`);
  await timers.advance(status.delayMs);
}

async function opened(net: FakeNetwork, frame: Record<string, unknown> = {}) {
  await flush();
  net.last.push(rehydrate(frame));
}

describe('connecting', () => {
  test('offers lifeline.v1 and the token as a bearer subprotocol, with the thread', async () => {
    const { net, client } = setup(['abc.def.ghi']);
    await flush();
    expect(net.last.protocols).toEqual(['lifeline.v1', 'bearer.abc.def.ghi']);
    expect(net.last.url.searchParams.get('thread')).toBe('t1');
    expect(net.last.url.searchParams.has('since')).toBe(false);
    expect(client.getStatus().state).toBe('connecting');
    net.last.push(rehydrate({ preferences: { theme: 'dark' } }));
    expect(client.getStatus()).toEqual({ state: 'open', connectionId: 'c1' });
    expect(client.getState().preferences).toEqual({ theme: 'dark' });
  });

  test('resumes with since = last seen seq and the epoch', async () => {
    const { net, timers, client } = setup();
    await opened(net, { epoch: 'k3', seq: 4 });
    net.last.push({ type: 'message', seq: 6, message: messageView(uuid(6), 6) });
    net.last.serverClose(1006);
    await untilRetry(client, timers);
    expect(net.sockets).toHaveLength(2);
    expect(net.last.url.searchParams.get('since')).toBe('6');
    expect(net.last.url.searchParams.get('epoch')).toBe('k3');
  });

  test('drops a socket that sends no rehydrate within the open timeout and retries', async () => {
    const { net, timers } = setup(['t'], { openTimeoutMs: 5_000 });
    await flush();
    await timers.advance(5_000);
    expect(net.sockets[0]?.closedByClient).toBeDefined();
    await timers.advance(60_000);
    expect(net.sockets.length).toBeGreaterThanOrEqual(2);
  });
});

describe('close codes', () => {
  test('4001 asks token() once, reconnects at once and resumes', async () => {
    const { net, timers, tokenCalls, client } = setup(['old', 'fresh']);
    await opened(net, { seq: 3 });
    net.last.serverClose(4001, 'token_expired');
    expect(client.getStatus()).toMatchObject({ state: 'reconnecting', delayMs: 0 });
    await timers.advance(0);
    expect(tokenCalls).toEqual(['old', 'fresh']);
    expect(net.last.protocols).toEqual(['lifeline.v1', 'bearer.fresh']);
    expect(net.last.url.searchParams.get('since')).toBe('3');
    net.last.push(rehydrate({ seq: 3, recovered: true }));
    expect(client.getStatus().state).toBe('open');
  });

  test('a second 4001 before a snapshot stops instead of looping with a stale token', async () => {
    const { net, timers, tokenCalls, client } = setup(['old', 'still-bad']);
    await opened(net);
    net.last.serverClose(4001, 'token_invalid');
    await timers.advance(0);
    net.last.serverClose(4001, 'token_invalid');
    await timers.advance(120_000);
    expect(tokenCalls).toHaveLength(2);
    expect(net.sockets).toHaveLength(2);
    expect(client.getStatus()).toMatchObject({ state: 'closed', code: 4001 });
  });

  test('4003 stops for good and says why', async () => {
    const { net, timers, client } = setup();
    await opened(net);
    net.last.serverClose(4003, 'forbidden');
    await timers.advance(3_600_000);
    expect(net.sockets).toHaveLength(1);
    expect(client.getStatus()).toEqual({ state: 'closed', reason: 'forbidden', code: 4003 });
  });

  test('an unknown 40xx stops; an unknown code outside 4000–4999 retries', async () => {
    const first = setup();
    await opened(first.net);
    first.net.last.serverClose(4321, '');
    expect(first.client.getStatus()).toMatchObject({ state: 'closed', code: 4321 });
    first.client.close();
    const second = setup();
    await opened(second.net);
    second.net.last.serverClose(3777, '');
    expect(second.client.getStatus().state).toBe('reconnecting');
  });

  test('4008 waits at least the slow-down floor, with jitter on top', async () => {
    const { net, timers, client } = setup(['t'], { backoff: { slowDownMs: 1_000 } });
    await opened(net);
    net.last.serverClose(4008, 'too many sockets');
    const status = client.getStatus();
    expect(status.state).toBe('reconnecting');
    const delayMs = (status as { delayMs: number }).delayMs;
    expect(delayMs).toBeGreaterThanOrEqual(1_000);
    expect(delayMs).toBeLessThan(1_500);
    await timers.advance(999);
    expect(net.sockets).toHaveLength(1);
    await timers.advance(delayMs - 999);
    expect(net.sockets).toHaveLength(2);
  });

  test('1012 reconnects after the reconnect hint', async () => {
    const { net, timers, client } = setup();
    await opened(net);
    net.last.push({ type: 'reconnect', after_ms: 1_840 });
    net.last.serverClose(1012, 'server restarting');
    expect(client.getStatus()).toMatchObject({ state: 'reconnecting', delayMs: 1_840 });
    await timers.advance(1_839);
    expect(net.sockets).toHaveLength(1);
    await timers.advance(1);
    expect(net.sockets).toHaveLength(2);
  });

  test('repeated failures back off within growing jittered windows', async () => {
    const { net, timers, statuses, client } = setup();
    await flush();
    for (let i = 0; i < 6; i++) {
      net.last.serverClose(1006);
      await untilRetry(client, timers);
    }
    const delays = statuses
      .filter(
        (s): s is Extract<ConnectionStatus, { state: 'reconnecting' }> =>
          s.state === 'reconnecting',
      )
      .map((s) => s.delayMs);
    const windows = [500, 1_000, 2_000, 4_000, 8_000, 16_000];
    expect(delays).toHaveLength(6);
    delays.forEach((delayMs, i) => {
      expect(delayMs).toBeLessThan(windows[i] as number);
    });
  });

  test('reconnectNow skips the wait', async () => {
    const { net, client } = setup();
    await opened(net);
    net.last.serverClose(1006);
    client.reconnectNow();
    await flush();
    expect(net.sockets).toHaveLength(2);
  });
});

describe('send and the offline queue', () => {
  test('sends while open and resolves with the ack seq; the message enters the thread', async () => {
    const { net, client } = setup();
    await opened(net, { seq: 1 });
    const sent = client.send({ thread_id: 't1', content: 'hi', id: uuid(9) });
    expect(net.last.sentOf('message')).toEqual([
      { type: 'message', id: uuid(9), thread_id: 't1', role: 'user', content: 'hi' },
    ]);
    net.last.push({ type: 'ack', id: uuid(9), seq: 2 });
    expect(await sent).toEqual({ id: uuid(9), seq: 2 });
    expect(client.getState().threads.t1?.messages.map((m) => m.content)).toEqual(['hi']);
    expect(client.queueSize).toBe(0);
  });

  test('queues while offline and flushes once, in order, after the snapshot', async () => {
    const { net, timers, client } = setup();
    const sizes: number[] = [];
    client.on('queue', ({ size }) => sizes.push(size));
    const sends = [1, 2, 3].map((n) =>
      client.send({ thread_id: 't1', content: `q${n}`, id: uuid(n) }),
    );
    expect(client.queueSize).toBe(3);
    expect(client.getState().pending.map((m) => m.content)).toEqual(['q1', 'q2', 'q3']);
    await opened(net);
    expect(net.last.sentOf('message').map((m) => m.content)).toEqual(['q1', 'q2', 'q3']);
    // Lost before the acks: resent on the next socket with the same ids, once.
    net.last.serverClose(1006);
    await untilRetry(client, timers);
    net.last.push(rehydrate({ recovered: true }));
    expect(net.last.sentOf('message').map((m) => m.id)).toEqual([uuid(1), uuid(2), uuid(3)]);
    for (const n of [1, 2, 3]) net.last.push({ type: 'ack', id: uuid(n), seq: n });
    expect((await Promise.all(sends)).map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(sizes).toEqual([1, 2, 3, 2, 1, 0]);
  });

  test('rejects with the server error code and drops the message from the queue', async () => {
    const { net, client } = setup();
    await opened(net);
    const sent = client.send({ thread_id: 't1', content: ' ', id: uuid(1) });
    net.last.push({
      type: 'error',
      code: 'empty_message',
      message: 'content is empty',
      id: uuid(1),
    });
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifelineRequestError);
    expect((error as LifelineRequestError).code).toBe('empty_message');
    expect(client.queueSize).toBe(0);
  });

  test('rejects queue_full beyond the limit', async () => {
    const { client } = setup(['t'], { queueLimit: 2 });
    void client.send({ thread_id: 't1', content: 'a' }).catch(() => {});
    void client.send({ thread_id: 't1', content: 'b' }).catch(() => {});
    const error = await client.send({ thread_id: 't1', content: 'c' }).catch((e: unknown) => e);
    expect((error as LifelineRequestError).code).toBe('queue_full');
    expect(client.queueSize).toBe(2);
  });

  test('rejects on a reply timeout', async () => {
    const { net, timers, client } = setup(['t'], { requestTimeoutMs: 2_000 });
    await opened(net);
    const sent = client.send({ thread_id: 't1', content: 'x' }).catch((e: unknown) => e);
    await timers.advance(2_000);
    expect(((await sent) as LifelineRequestError).code).toBe('timeout');
    expect(client.queueSize).toBe(0);
  });

  test('a resend with the same id returns the same promise', async () => {
    const { client } = setup();
    const a = client.send({ thread_id: 't1', content: 'x', id: uuid(5) });
    const b = client.send({ thread_id: 't1', content: 'x', id: uuid(5) });
    expect(a).toBe(b);
    expect(client.queueSize).toBe(1);
    client.close();
    expect(((await a.catch((e: unknown) => e)) as LifelineRequestError).code).toBe('closed');
  });

  test('other requests need an open socket and fail when it closes', async () => {
    const { net, client } = setup();
    const offline = await client.setPreferences({ a: 1 }).catch((e: unknown) => e);
    expect((offline as LifelineRequestError).code).toBe('offline');
    await opened(net);
    const pending = client.joinThread('t2').catch((e: unknown) => e);
    net.last.serverClose(1006);
    expect(((await pending) as LifelineRequestError).code).toBe('disconnected');
  });

  test('setPreferences applies the preferences once acked', async () => {
    const { net, client } = setup();
    await opened(net);
    const done = client.setPreferences({ theme: 'light' });
    const frame = net.last.sentOf('preferences.set')[0] as { id: string };
    net.last.push({ type: 'ack', id: frame.id, seq: 1 });
    expect(await done).toEqual({ seq: 1 });
    expect(client.getState().preferences).toEqual({ theme: 'light' });
  });
});

describe('token refresh', () => {
  test('auth.expiring fetches a token and sends auth.refresh on the same socket', async () => {
    const { net, tokenCalls, client } = setup(['one', 'two']);
    await opened(net);
    net.last.push({ type: 'auth.expiring', in_s: 60 });
    await flush();
    const refresh = net.last.sentOf('auth.refresh');
    expect(refresh).toMatchObject([{ type: 'auth.refresh', token: 'two' }]);
    net.last.push({
      type: 'auth.ok',
      id: (refresh[0] as { id: string }).id,
      token_expires_at: '2026-11-24T14:00:00.000Z',
    });
    await flush();
    expect(tokenCalls).toEqual(['one', 'two']);
    expect(client.getState().session?.token_expires_at).toBe('2026-11-24T14:00:00.000Z');
  });

  test('a token that arrives after its socket was replaced is not sent on the new one', async () => {
    const net = new FakeNetwork();
    const timers = new FakeTimers();
    let release: (token: string) => void = () => {};
    let calls = 0;
    client = connect({
      url: 'ws://127.0.0.1:7400/ws',
      timers,
      socket: net.factory,
      token: () => {
        calls++;
        if (calls === 2) return new Promise<string>((resolve) => (release = resolve));
        return Promise.resolve(`tok-${calls}`);
      },
    });
    await opened(net);
    net.sockets[0]?.push({ type: 'auth.expiring', in_s: 60 });
    net.sockets[0]?.serverClose(1006);
    await untilRetry(client, timers);
    net.last.push(rehydrate({ recovered: true }));
    release('late-token');
    await flush();
    expect(net.sockets).toHaveLength(2);
    expect(net.sockets.flatMap((s) => s.sentOf('auth.refresh'))).toEqual([]);
  });
});

describe('pushes', () => {
  test('emits replayed and live pushes once each, ignoring duplicates', async () => {
    const { net, timers, client } = setup();
    const seen: Array<[number, boolean]> = [];
    client.on('push', ({ frame, replayed }) => seen.push([frame.seq, replayed]));
    await opened(net, { seq: 2 });
    net.last.push({ type: 'event', seq: 3, event: 'x', data: null });
    net.last.serverClose(1006);
    await untilRetry(client, timers);
    net.last.push(rehydrate({ seq: 5, recovered: true }));
    for (const seq of [3, 4, 5, 5, 6])
      net.last.push({ type: 'event', seq, event: 'x', data: null });
    expect(seen).toEqual([
      [3, false],
      [4, true],
      [5, true],
      [6, false],
    ]);
  });
});
