/**
 * The client against the real realtime server (in process, port 0, fresh SQLite), over Bun's
 * WebSocket: one test per behaviour of issue 8. Restarts and a wiped data directory need the
 * daemon and are in daemon.test.ts.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import {
  type ConnectionStatus,
  connect,
  type LifelineClient,
  type WebSocketLike,
} from '../../client/index.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { waitFor } from '../support/spawn.ts';

const opened: Array<LifelineClient | Harness> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) {
    if ('close' in item) item.close();
    else await item[Symbol.asyncDispose]();
  }
});

async function server(options: Parameters<typeof startRealtime>[0] = {}): Promise<Harness> {
  const harness = await startRealtime(options);
  opened.push(harness);
  return harness;
}

/** A socket factory with a gate: while closed, attempts go to a port nothing listens on. */
function gatedSockets() {
  const attempts: Array<{ url: string; atMs: number }> = [];
  const gate = { open: true };
  const live: { socket?: WebSocket } = {};
  const factory = (url: string, protocols: string[]): WebSocketLike => {
    attempts.push({ url, atMs: Date.now() });
    const target = gate.open ? url : url.replace(/:\d+\//, ':9/');
    live.socket = new WebSocket(target, protocols);
    return live.socket as unknown as WebSocketLike;
  };
  /** Drops the connection in use, as a network failure would. */
  const drop = () => live.socket?.close(1000, 'dropped by the test');
  return { attempts, gate, factory, drop };
}

function client(
  h: Harness,
  userId: string,
  options: Partial<Parameters<typeof connect>[0]> = {},
): LifelineClient & { tokenCalls: () => number } {
  let calls = 0;
  const made = connect({
    url: h.wsUrl,
    token: () => {
      calls++;
      return h.token(userId);
    },
    thread: 't1',
    backoff: { baseMs: 20, capMs: 100 },
    ...options,
  });
  opened.push(made);
  return Object.assign(made, { tokenCalls: () => calls });
}

const isOpen = (c: LifelineClient) => () => c.getStatus().state === 'open';

describe('client against the realtime server', () => {
  test('rehydrates, sends with an ack, and sees the push from another socket', async () => {
    const h = await server();
    const a = client(h, 'u1');
    const b = client(h, 'u1');
    await waitFor(() => isOpen(a)() && isOpen(b)());
    expect(a.getState().session?.user_id).toBe('u1');
    const ack = await a.send({ thread_id: 't1', content: 'hello' });
    expect(ack.seq).toBeGreaterThan(0);
    await waitFor(() => (b.getState().threads.t1?.messages.length ?? 0) === 1);
    expect(b.getState().threads.t1?.messages[0]).toMatchObject({ id: ack.id, content: 'hello' });
    expect(a.getState().threads.t1?.messages.map((m) => m.id)).toEqual([ack.id]);
    await a.setPreferences({ theme: 'dark' });
    await waitFor(() => b.getState().preferences.theme === 'dark');
  });

  test('4001 calls token() exactly once more, then resumes', async () => {
    const h = await server();
    const tokens = [await h.token('u1'), 'not-a-token', await h.token('u1')];
    let calls = 0;
    const resumed: boolean[] = [];
    const c = connect({
      url: h.wsUrl,
      thread: 't1',
      token: async () => tokens[Math.min(calls++, 2)] as string,
    });
    opened.push(c);
    c.on('rehydrate', ({ resumed: r }) => resumed.push(r));
    await waitFor(isOpen(c));
    await c.send({ thread_id: 't1', content: 'before' });
    // auth.refresh with a bad token makes the server close with 4001 (docs/protocol.md §4.6).
    await c.refreshToken().catch(() => {});
    await waitFor(() => resumed.length === 2 && isOpen(c)());
    expect(calls).toBe(3);
    expect(resumed).toEqual([false, true]);
    expect(c.getState().threads.t1?.messages.map((m) => m.content)).toEqual(['before']);
  });

  test('4003 stops with no retry', async () => {
    const h = await server({ authorize: (claims) => claims.sub !== 'banned' });
    const sockets = gatedSockets();
    const c = client(h, 'banned', { socket: sockets.factory });
    await waitFor(() => c.getStatus().state === 'closed');
    expect(c.getStatus()).toMatchObject({ state: 'closed', code: 4003, reason: 'forbidden' });
    // A later reconnectNow does nothing either: stopped for good.
    c.reconnectNow();
    expect(sockets.attempts).toHaveLength(1);
  });

  test('4008 waits at least the slow-down floor before the next attempt', async () => {
    const h = await server({ configure: (config) => (config.limits.sockets_per_user = 1) });
    const holder = client(h, 'u1');
    await waitFor(isOpen(holder));
    const sockets = gatedSockets();
    const statuses: ConnectionStatus[] = [];
    const c = client(h, 'u1', { socket: sockets.factory, backoff: { slowDownMs: 1_000 } });
    c.on('status', (status) => statuses.push(status));
    await waitFor(() => c.getStatus().state === 'reconnecting');
    const waiting = c.getStatus() as Extract<ConnectionStatus, { state: 'reconnecting' }>;
    expect(waiting.lastClose.code).toBe(4008);
    expect(waiting.delayMs).toBeGreaterThanOrEqual(1_000);
    holder.close();
    await waitFor(isOpen(c), 5_000);
    expect(sockets.attempts).toHaveLength(2);
    // The second attempt was not made before the time the status announced.
    expect(sockets.attempts[1]?.atMs).toBeGreaterThanOrEqual(waiting.nextAttemptAt - 2);
  });

  test('after a drop, resumes with since/epoch and applies the missed messages once', async () => {
    const h = await server();
    const sockets = gatedSockets();
    const a = client(h, 'u1', { socket: sockets.factory });
    const b = client(h, 'u1');
    await waitFor(() => isOpen(a)() && isOpen(b)());
    await b.send({ thread_id: 't1', content: 'seen' });
    await waitFor(() => a.getState().threads.t1?.messages.length === 1);
    const { epoch, seq } = a.getState();
    sockets.gate.open = false;
    sockets.drop();
    await waitFor(() => a.getStatus().state === 'reconnecting');
    for (const content of ['missed 1', 'missed 2', 'missed 3']) {
      await b.send({ thread_id: 't1', content });
    }
    const replayed: number[] = [];
    a.on('push', ({ frame, replayed: r }) => r && replayed.push(frame.seq));
    sockets.gate.open = true;
    a.reconnectNow();
    await waitFor(() => isOpen(a)() && a.getState().threads.t1?.messages.length === 4);
    const resumeUrl = new URL(sockets.attempts.at(-1)?.url ?? '');
    expect(resumeUrl.searchParams.get('since')).toBe(String(seq));
    expect(resumeUrl.searchParams.get('epoch')).toBe(epoch);
    expect(a.getState().threads.t1?.messages.map((m) => m.content)).toEqual([
      'seen',
      'missed 1',
      'missed 2',
      'missed 3',
    ]);
    expect(replayed).toHaveLength(3);
  });

  test('flushes the offline queue once, in order, with the same ids', async () => {
    const h = await server();
    const sockets = gatedSockets();
    sockets.gate.open = false;
    const a = client(h, 'u1', { socket: sockets.factory });
    const sends = ['one', 'two', 'three'].map((content) => a.send({ thread_id: 't1', content }));
    expect(a.queueSize).toBe(3);
    const ids = a.getState().pending.map((m) => m.id);
    sockets.gate.open = true;
    a.reconnectNow();
    const acks = await Promise.all(sends);
    expect(acks.map((ack) => ack.id)).toEqual(ids);
    expect(acks.map((ack) => ack.seq)).toEqual(
      [...acks.map((ack) => ack.seq)].sort((x, y) => x - y),
    );
    expect(a.queueSize).toBe(0);
    const reader = client(h, 'u1');
    await waitFor(isOpen(reader));
    const thread = await reader.joinThread('t1');
    expect(thread.messages.map((m) => `${m.id} ${m.content}`)).toEqual([
      `${ids[0]} one`,
      `${ids[1]} two`,
      `${ids[2]} three`,
    ]);
  });

  test('refreshes the token in place on auth.expiring, on the same connection', async () => {
    const h = await server({ configure: (config) => (config.auth.expiring_notice_s = 3_600) });
    const c = client(h, 'u1');
    await waitFor(isOpen(c));
    const connectionId = c.getState().session?.connection_id;
    await waitFor(() => c.tokenCalls() >= 2);
    await waitFor(() => c.getState().session?.token_expires_at !== undefined);
    h.realtime.sweep();
    expect(c.getStatus()).toEqual({ state: 'open', connectionId: connectionId as string });
  });
});
